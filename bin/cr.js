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

/**
 * A render node runs for weeks, mostly idle, on a machine whose cores are for renders.
 * V8's young generation, which otherwise grows to 16 MB semi-spaces during start-up and
 * keeps them, is held to 1 MB (about 13 MB less resident; an idle node allocates little,
 * though catching up on many events costs some 10 % more CPU in scavenges), and V8 runs
 * its background work on one thread instead of four (about 2 MB).
 */
const RENDER_NODE_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1']

/** `cr node` or `cr node run`, with options: the long-running node, not `cr node set` and the like. */
function runsRenderNode (argv) {
  const [command, next] = argv.slice(2)
  return command === 'node' && (next === undefined || next === 'run' || next.startsWith('-'))
}

/**
 * V8 takes heap sizes only on the command line, so the node starts itself again with them:
 * execve keeps the process (its pid, its stdio, its service manager) and costs a bare
 * Node start-up. Where execve is missing (Node 22, Windows) the node runs with defaults.
 */
function restartWithNodeFlags () {
  if (typeof process.execve !== 'function' || process.platform === 'win32') return
  // Restarted already, or started with settings of its own: those stand.
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  if (RENDER_NODE_FLAGS.some((flag) => given.some((setting) => setting.startsWith(flag.split('=')[0])))) return
  process.execve(process.execPath, [process.execPath, ...RENDER_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], process.env)
}

if (runsRenderNode(process.argv)) restartWithNodeFlags()

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
