/**
 * What LevelDB's own files say about a store, read before and after LevelDB opens it.
 * LevelDB (as classic-level builds it, without paranoid checks) recovers a damaged
 * write-ahead log by dropping the bad records and noting it in its info log only, and
 * makes a new empty database where its CURRENT file is gone, deleting the old tables.
 * These checks turn both into a refusal, and LevelDB's own errors into ours.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { CorruptStoreError, StoreInUseError } from './errors.js'

/** Files only a LevelDB database with data has (the info log and lock are made at once). */
const DATA_FILE = /^(?:\d+\.(?:log|ldb|sst)|MANIFEST-\d+)$/

/** Where a store directory stands before it is opened. */
export type StoreDirState = 'new' | 'existing'

/**
 * 'new' when there is nothing to lose (no directory, or no LevelDB data in it). A
 * directory with data but no CURRENT is refused: LevelDB would start an empty database
 * there and delete the tables it no longer knows.
 */
export async function storeDirState (location: string): Promise<StoreDirState> {
  let names: string[]
  try {
    names = await readdir(location)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'new'
    throw error
  }
  if (!names.some((name) => DATA_FILE.test(name))) return 'new'
  if (!names.includes('CURRENT')) {
    throw new CorruptStoreError(location, 'CURRENT', 'LevelDB\'s CURRENT file is missing, so its MANIFEST cannot be found')
  }
  return 'existing'
}

interface LevelErrorLike { readonly code?: unknown, readonly message?: unknown, readonly cause?: unknown }

function levelCodeOf (error: unknown): { code: string, message: string } | undefined {
  for (let current: unknown = error; typeof current === 'object' && current !== null; current = (current as LevelErrorLike).cause) {
    const { code, message } = current as LevelErrorLike
    if (typeof code === 'string' && code !== 'LEVEL_DATABASE_NOT_OPEN') return { code, message: String(message) }
  }
  return undefined
}

/**
 * LevelDB's report of damage it met (a checksum, a missing table, a broken MANIFEST) as a
 * CorruptStoreError, its lock as StoreInUseError; any other failure is returned as it is.
 */
export function levelFailure (location: string, error: unknown): unknown {
  const found = levelCodeOf(error)
  if (found?.code === 'LEVEL_CORRUPTION') {
    const file = /\/(\d+\.(?:log|ldb|sst)|MANIFEST-\d+)\b/.exec(found.message)?.[1]
    return new CorruptStoreError(location, file ?? 'LevelDB', found.message, { cause: error })
  }
  if (found?.code === 'LEVEL_LOCKED') return new StoreInUseError(location, 'another process')
  return error
}

/** Runs a read of the store, turning LevelDB's damage reports into CorruptStoreError. */
export async function guardedRead<T> (location: string, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    throw levelFailure(location, error)
  }
}

/**
 * What LevelDB dropped ("123 bytes of 000011.log (Corruption: checksum mismatch)") while it
 * recovered its write-ahead log in this open, from the info
 * log it writes at each open (`LOG`; the last open's moves to `LOG.old`). LevelDB reports a
 * torn tail of a crash as the end of the log, not here: a line here is damage.
 */
export async function droppedAtRecovery (location: string): Promise<string[]> {
  let text: string
  try {
    text = await readFile(path.join(location, 'LOG'), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return text.split('\n').flatMap((line) => {
    const found = / (\S+): dropping (\d+) bytes; (.*)$/.exec(line)
    return found === null ? [] : [`${found[2]} bytes of ${path.basename(found[1] ?? '')} (${found[3]})`]
  })
}

/**
 * The process that holds LevelDB's lock on the store, if any, from the kernel's table of
 * POSIX locks (Linux). LevelDB takes that lock with fcntl, which a test open cannot probe
 * without recovering, and so changing, a damaged store.
 */
export async function lockHolder (location: string): Promise<number | null> {
  let lock
  try {
    lock = await stat(path.join(location, 'LOCK'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  const table = await readFile('/proc/locks', 'utf8')
  for (const line of table.split('\n')) {
    // "1: POSIX  ADVISORY  WRITE 4242 fd:01:1234567 0 EOF"
    const fields = line.trim().split(/\s+/)
    const [, , , , pid, file] = fields
    if (file?.split(':')[2] === String(lock.ino) && pid !== undefined) return Number(pid)
  }
  return null
}
