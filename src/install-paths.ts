/**
 * Where this installation's files are, for code that starts a program of ours (the
 * service's `cr`, the procedural renderer). `import.meta.url` alone cannot say: run from
 * the sources it names the module's own .ts file, while in the bundled build (dist/,
 * scripts/build.ts) every bundled module shares the bundle's URL.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Whether this code runs from the TypeScript sources (through tsx) rather than dist/. */
// The path, not the URL: tsx's tsImport adds a query to the URL of every module it loads.
export const RUNS_FROM_SOURCES = new URL(import.meta.url).pathname.endsWith('.ts')

function packageRootOf (start: string): string {
  for (let dir = path.dirname(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}: this installation of cr is incomplete`)
  }
}

/** The folder holding package.json, bin/, src/ or dist/. */
export const PACKAGE_ROOT = packageRootOf(fileURLToPath(import.meta.url))

/** The `cr` command itself, as a service manager should start it. */
export const CR_ENTRY_POINT = path.join(PACKAGE_ROOT, 'bin', 'cr.js')

/**
 * A separately runnable program of ours by its path under src/ without extension
 * ('render/procedural/renderer'): the source file from the sources, the built file in dist/.
 */
export function programPath (underSrc: string): string {
  return RUNS_FROM_SOURCES ? path.join(PACKAGE_ROOT, 'src', `${underSrc}.ts`) : path.join(PACKAGE_ROOT, 'dist', `${underSrc}.js`)
}
