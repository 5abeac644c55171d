/**
 * A stopped node's store, opened for a report without touching the node's data dir:
 * LevelDB writes to a database's directory whenever it opens one (a new manifest, its
 * log turned into a table, a lock file), so `cr export --from` opens a copy in a temporary
 * directory instead. LevelDB never changes a table file once written, so those are hard
 * links (a copy across file systems); the few small files it rewrites are copied.
 */
import { copyFile, link, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { NoStoreError, StoreInUseError } from '../node/store/errors.js'
import { EventStore, type EventStoreOptions } from '../node/store/event-store.js'
import { lockHolder, storeDirState } from '../node/store/leveldb-files.js'
import type { Signer } from '../protocol/signing.js'

const TABLE_FILE = /\.(ldb|sst)$/

/** Hard-links, or where the file systems differ copies, `source` to `target`. */
async function linkOrCopy (source: string, target: string): Promise<void> {
  try {
    await link(source, target)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EXDEV' && code !== 'EPERM') throw error
    await copyFile(source, target)
  }
}

async function copyStore (location: string, copy: string): Promise<void> {
  for (const name of await readdir(location)) {
    if (name === 'LOCK') continue
    const source = path.join(location, name)
    const target = path.join(copy, name)
    await (TABLE_FILE.test(name) ? linkOrCopy(source, target) : copyFile(source, target))
  }
}

/**
 * Runs `work` on a copy of the store at `location`, removed afterwards. Throws
 * NoStoreError when there is none, StoreInUseError when a running node holds it (its
 * files would be copied mid-write), and what EventStore.open throws for a damaged one.
 */
export async function withStoreCopy<T> (location: string, signer: Signer, options: EventStoreOptions, work: (store: EventStore) => Promise<T>): Promise<T> {
  if (await storeDirState(location) === 'new') throw new NoStoreError(location)
  const holder = await lockHolder(location)
  if (holder !== null) throw new StoreInUseError(location, `process ${holder}`)
  const copy = await mkdtemp(path.join(tmpdir(), 'cr-export-store-'))
  try {
    await copyStore(location, copy)
    const store = await EventStore.open(copy, signer, options)
    try {
      return await work(store)
    } finally {
      await store.close()
    }
  } finally {
    await rm(copy, { recursive: true, force: true })
  }
}
