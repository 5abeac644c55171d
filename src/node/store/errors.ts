/** Failures of the on-disk store, each naming the directory or key involved. */
import path from 'node:path'

/**
 * The command that rebuilds a damaged store, for the messages that refuse one. A node's
 * store sits in `<data dir>/store`; a store elsewhere (tests, tools) is named as it is.
 */
export function repairCommandFor (location: string): string {
  const dataDir = path.basename(location) === 'store' ? path.dirname(location) : location
  return `cr store repair --data-dir ${dataDir}`
}

/**
 * The store is damaged: bytes it did not write, a part of LevelDB missing or unreadable,
 * or writes that went missing. `part` names what is damaged (a key such as
 * `events/<author>!<seq>`, or a LevelDB file); nothing of such a store is trusted until
 * `cr store repair` rebuilds it.
 */
export class CorruptStoreError extends Error {
  override readonly name = 'CorruptStoreError'
  constructor (readonly location: string, readonly part: string, readonly why: string, options?: ErrorOptions) {
    super(`store ${location} is corrupt at ${part}: ${why}; stop the node and run \`${repairCommandFor(location)}\``, options)
  }
}

/** The directory holds a database, but not one of ours (or of a newer format). */
export class ForeignStoreError extends Error {
  override readonly name = 'ForeignStoreError'
  constructor (readonly location: string, readonly found: string, readonly expected: string) {
    super(`store ${location} has format ${JSON.stringify(found)}; this version reads ${JSON.stringify(expected)}`)
  }
}

/** Another process (a running node, another `cr store` command) has the store open. */
export class StoreInUseError extends Error {
  override readonly name = 'StoreInUseError'
  constructor (readonly location: string, readonly holder: string) {
    super(`store ${location} is in use by ${holder}; stop the node first`)
  }
}

/**
 * LevelDB would not open the store, for a reason that is neither its lock (another
 * process: StoreInUseError) nor damage it names (CorruptStoreError): an I/O error such
 * as a file it cannot read or a CURRENT naming a MANIFEST that is not there.
 */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError'
  constructor (readonly location: string, readonly why: string, options?: ErrorOptions) {
    super(`store ${location} could not be opened: ${why}. No other process holds it (LevelDB would have said so), so it is unreadable or damaged: check that this user may read it; if so, stop the node and run \`${repairCommandFor(location)}\``, options)
  }
}

interface LevelErrorLike { readonly code?: unknown, readonly message?: unknown, readonly cause?: unknown }

/**
 * LevelDB's bare `Database failed to open` as a StoreOpenError carrying the reason it
 * wraps (the innermost cause); any other error as it is.
 */
export function storeOpenFailure (location: string, error: unknown): unknown {
  if ((error as LevelErrorLike | undefined)?.code !== 'LEVEL_DATABASE_NOT_OPEN') return error
  let reason = error as LevelErrorLike
  while (typeof reason.cause === 'object' && reason.cause !== null) reason = reason.cause
  return new StoreOpenError(location, String(reason.message), { cause: error })
}

/** `cr store repair` was pointed at a data directory without a store. */
export class NoStoreError extends Error {
  override readonly name = 'NoStoreError'
  constructor (readonly location: string) {
    super(`there is no store at ${location} (is --data-dir right?); a node makes a new one when it starts`)
  }
}

/** A write failed (full disk, permissions); nothing of it was applied. */
export class StoreWriteError extends Error {
  override readonly name = 'StoreWriteError'
  constructor (readonly location: string, options?: ErrorOptions) {
    super(`store ${location} could not write: ${(options?.cause as Error | undefined)?.message ?? 'unknown error'}; nothing was applied`, options)
  }
}

export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError'
  constructor (readonly location: string) {
    super(`store ${location} is closed`)
  }
}
