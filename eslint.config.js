// One preset (typescript-eslint's strict, type-aware) with few overrides.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  // test/fixtures/lint/ holds code that breaks these rules on purpose, for the test that runs them.
  { ignores: ['dist/', 'node_modules/', 'bin/', 'test/fixtures/lint/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    rules: {
      // Template literals with numbers are how we format figures and ids.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // No promise left loose: a rejection nobody handles would take a node down. `void p` is
      // not handling it; `.catch` with a reason is (see src/node/runtime/process-guard.ts).
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false, checkThenables: true }],
      '@typescript-eslint/no-misused-promises': ['error', { checksConditionals: true, checksSpreads: true, checksVoidReturn: true }],
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
