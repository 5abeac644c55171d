/**
 * `npm run build` (run by `npm ci` and `npm install` too): bundles the CLI, and each
 * program it starts as a process of its own, into a fresh dist/, then stamps it with the
 * time the build began. One file per program starts several times faster than hundreds
 * of modules resolved one by one (libp2p's among them), which every `cr` command and
 * every node start pays. bin/cr.js runs dist/ only while its stamp is at least as new as
 * every source file, so a file saved during the build still counts as changed.
 * Types are checked by `npm run typecheck`, not here.
 */
import { rmSync, utimesSync, writeFileSync } from 'node:fs'
import { build, type Plugin } from 'esbuild'

/** Programs of their own, by path under src/ (see src/install-paths.ts `programPath`). */
const ENTRY_POINTS = ['src/cli.ts', 'src/render/procedural/renderer.ts', 'src/report/sqlite-build-worker.ts']
/** Native addons load their binary relative to their own package: they stay in node_modules. */
const NATIVE_PACKAGES = ['classic-level']

/**
 * ink imports its React devtools bridge only with DEV=true and the optional package
 * installed (it checks with import.meta.resolve first), but a bundle hoists the bridge's
 * import to the top: it gets an empty stand-in, never reached without the package.
 */
const withoutDevtools: Plugin = {
  name: 'without-react-devtools',
  setup (build) {
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'absent' }))
    build.onLoad({ filter: /.*/, namespace: 'absent' }, () => ({ contents: 'export default {}', loader: 'js' }))
  }
}

/**
 * zod carries its messages in some forty languages, and its namespace re-exports them all
 * (`z.locales`), so a bundle keeps every one: half of zod's bytes, parsed and held by every
 * process. cr speaks English and never switches locale; the bundle keeps only `en`, the one
 * zod configures itself with.
 */
const englishOnlyZod: Plugin = {
  name: 'zod-english-only',
  setup (build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => args.importer.includes('/node_modules/zod/') ? { path: 'zod-locales', namespace: 'zod-locales', pluginData: args.resolveDir } : undefined)
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: 'export { default as en } from \'./en.js\'', loader: 'js', resolveDir: `${String(args.pluginData)}/../locales` }))
  }
}

const startedAt = new Date()
rmSync('dist', { recursive: true, force: true })
await build({
  entryPoints: ENTRY_POINTS,
  outdir: 'dist',
  outbase: 'src',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: 'linked',
  // Modules that only some commands import (cli.ts loads them on demand) go into chunks of
  // their own, so a render node never reads or compiles Ink, React or the SQL drivers.
  splitting: true,
  // Comments carry characters beyond Latin-1, and one such character makes V8 hold the
  // whole bundle's source as two bytes per character: without them it is a quarter the
  // size in memory. Names stay, for stack traces; the source map maps lines back.
  minifyWhitespace: true,
  external: NATIVE_PACKAGES,
  plugins: [withoutDevtools, englishOnlyZod],
  // CommonJS dependencies bundled into an ES module still call require().
  banner: { js: 'import { createRequire as __createRequire } from \'node:module\'; const require = __createRequire(import.meta.url);' },
  logLevel: 'warning'
})
writeFileSync('dist/.built', '')
utimesSync('dist/.built', startedAt, startedAt)
