/** Failures of the on-disk store, each naming the directory or key involved. */

/** Bytes on disk that the store did not write: damaged, or another program's data. */
export class CorruptStoreError extends Error {
  override readonly name = 'CorruptStoreError'
  constructor (readonly location: string, readonly key: string, why: string, options?: ErrorOptions) {
    super(`store ${location} is corrupt at ${key}: ${why}`, options)
  }
}

/** The directory holds a database, but not one of ours (or of a newer format). */
export class ForeignStoreError extends Error {
  override readonly name = 'ForeignStoreError'
  constructor (readonly location: string, readonly found: string, readonly expected: string) {
    super(`store ${location} has format ${JSON.stringify(found)}; this version reads ${JSON.stringify(expected)}`)
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
