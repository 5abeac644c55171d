// One preset (typescript-eslint's strict, type-aware) with few overrides.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    rules: {
      // Template literals with numbers are how we format figures and ids.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Library code logs through src/node/log.ts; the CLI and benchmarks print.
      'no-console': 'error',
      // `const { sig: _sig, ...unsigned } = event` is how we drop a field.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, varsIgnorePattern: '^_', argsIgnorePattern: '^_' }]
    }
  },
  {
    files: ['src/cli.ts', 'src/cli/**', 'bench/**', 'test/**', 'scripts/**'],
    rules: { 'no-console': 'off' }
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked
  }
)
