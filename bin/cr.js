#!/usr/bin/env node
// The `cr` command. Runs the compiled CLI (dist/, written by `npm run build`, which
// `npm ci` and `npm install` run) when it is at least as new as every source file: a
// render node then starts without a TypeScript loader, lighter and faster. A checkout
// whose sources changed since the last build runs them through tsx instead, so nobody
// ever runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { enableCompileCache } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = new URL('../', import.meta.url)
const compiled = new URL('dist/cli.js', root)
/** Touched by `npm run build` after the compiler succeeded. */
const builtStamp = new URL('dist/.built', root)
const sources = fileURLToPath(new URL('src/', root))

function newestSourceMs () {
  let newest = 0
  for (const entry of readdirSync(sources, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs)
  }
  return newest
}

function compiledIsCurrent () {
  if (!existsSync(compiled) || !existsSync(builtStamp)) return false
  // An installed package ships dist/ without src/.
  return !existsSync(sources) || statSync(builtStamp).mtimeMs >= newestSourceMs()
}

// V8 keeps the compiled bundle on disk between runs: a short command skips most of its start-up.
enableCompileCache()

if (compiledIsCurrent()) {
  const { main } = await import(compiled.href)
  await main(process.argv)
} else {
  const { tsImport } = await import('tsx/esm/api')
  const { main } = await tsImport('../src/cli.ts', import.meta.url)
  await main(process.argv)
}
