/**
 * Node data directories with real LevelDB stores, and the ways a disk or an admin damages
 * them: flipped bytes in the write-ahead log or in a table, a deleted table, a truncated
 * MANIFEST, a missing CURRENT.
 */
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { loadOrCreateIdentity } from '../../src/node/identity.js'
import { EventStore, storeDirOf } from '../../src/node/store/event-store.js'
import { signerFromKey } from '../../src/protocol/signing.js'
import type { VersionVector } from '../../src/protocol/version-vector.js'
import { jobSpec } from './farm-events.js'

export const DAMAGES = ['log-flipped', 'table-flipped', 'table-deleted', 'manifest-truncated', 'current-deleted'] as const
export type Damage = typeof DAMAGES[number]

interface Teardown { teardown: (fn: () => Promise<void>) => void }

export interface NodeDir {
  readonly dir: string
  /** What the store held once its tables were written (before the events left in the log). */
  readonly inTables: VersionVector
  readonly all: VersionVector
}

/** Appends `count` small local events. */
async function appendSome (store: EventStore, count: number, wallTime: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    await store.append({ type: 'log.recorded', clientName: 'render01', jobId: null, block: null, description: `line ${wallTime + index} ${'x'.repeat(200)}`, outputTail: [] }, wallTime + index)
  }
}

/**
 * A node's data directory whose store has `tableEvents` events compacted into LevelDB
 * tables and `logEvents` more only in its write-ahead log, closed cleanly.
 */
export async function nodeDirWithStore (t: Teardown, tableEvents = 200, logEvents = 60): Promise<NodeDir> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-damaged-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const location = storeDirOf(dir)
  const store = await EventStore.open(location, signerFromKey(await loadOrCreateIdentity(dir)))
  // As a node's first start leaves it: a new identity's new store has nothing to recover.
  await store.markRecovered()
  await store.append({ type: 'job.submitted', job: jobSpec() }, 1)
  await appendSome(store, tableEvents - 1, 2)
  const inTables = store.versionVector()
  await store.close()
  // classic-level, which level is in Node, can compact; level's types do not say so.
  const raw = new Level(location) as unknown as { compactRange: (from: string, to: string) => Promise<void>, close: () => Promise<void> }
  await raw.compactRange('\x00', '\xff')
  await raw.close()
  const again = await EventStore.open(location, signerFromKey(await loadOrCreateIdentity(dir)))
  await appendSome(again, logEvents, tableEvents + 1)
  const all = again.versionVector()
  await again.close()
  return { dir, inTables, all }
}

async function newest (location: string, pattern: RegExp): Promise<string> {
  const names = (await readdir(location)).filter((name) => pattern.test(name)).sort()
  const name = names.at(-1)
  if (name === undefined) throw new Error(`no file like ${String(pattern)} in ${location}`)
  return path.join(location, name)
}

async function largest (location: string, pattern: RegExp): Promise<string> {
  const files = await Promise.all((await readdir(location)).filter((name) => pattern.test(name)).map(async (name) => ({ name, size: (await stat(path.join(location, name))).size })))
  const found = files.sort((a, b) => b.size - a.size)[0]
  if (found === undefined) throw new Error(`no file like ${String(pattern)} in ${location}`)
  return path.join(location, found.name)
}

async function flip8 (file: string, at: (size: number) => number): Promise<void> {
  const bytes = await readFile(file)
  const offset = at(bytes.length)
  for (let index = offset; index < offset + 8; index++) bytes[index] = (bytes[index] ?? 0) ^ 0xff
  await writeFile(file, bytes)
}

/** Damages the store of `dir` as `damage` says. */
export async function damageStore (dir: string, damage: Damage): Promise<void> {
  const location = storeDirOf(dir)
  if (damage === 'log-flipped') await flip8(await newest(location, /\.log$/), (size) => Math.floor(size / 3))
  if (damage === 'table-flipped') await flip8(await largest(location, /\.ldb$/), (size) => Math.floor(size / 3))
  if (damage === 'table-deleted') await rm(await largest(location, /\.ldb$/))
  if (damage === 'manifest-truncated') {
    const manifest = await newest(location, /^MANIFEST-/)
    await truncate(manifest, Math.floor((await stat(manifest)).size / 2))
  }
  if (damage === 'current-deleted') await rm(path.join(location, 'CURRENT'))
}
