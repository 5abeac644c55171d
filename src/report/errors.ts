/**
 * Why an export refused or failed, with what a person needs to fix it. Every sink (SQLite,
 * PostgreSQL, a SQL dump) throws these, so `cr export` words and exits alike whatever the
 * destination; src/cli/exit.ts maps them to exit codes.
 */

/** The destination holds a schema this build does not know: a newer `cr` wrote it. */
export class NewerSchemaError extends Error {
  override readonly name = 'NewerSchemaError'
  constructor (readonly destination: string, readonly found: number, readonly supported: number) {
    super(`${destination}: schema_version ${found} is newer than this cr supports (${supported}); upgrade cr to export here`)
  }
}

/** A report table whose columns differ from the schema: someone altered it, and we will not guess. */
export class AlteredTableError extends Error {
  override readonly name = 'AlteredTableError'
  constructor (readonly destination: string, readonly table: string, readonly detail: string) {
    super(`${destination}: table ${table} differs from the report schema (${detail}); drop it or export elsewhere`)
  }
}

/**
 * The destination could not be read or written (read-only file, disk full, server
 * unreachable, wrong password): `cause` says which, and nothing of this run was kept.
 */
export class DestinationError extends Error {
  override readonly name = 'DestinationError'
  constructor (readonly destination: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`${destination}: ${reason}`, options)
  }
}

/**
 * The destination reflects events this peer does not hold (it was exported from a peer
 * further along): writing now would take it back in time.
 */
export class DestinationAheadError extends Error {
  override readonly name = 'DestinationAheadError'
  constructor (readonly destination: string, readonly authors: readonly string[]) {
    super(`${destination}: reflects events of ${authors.join(', ')} that this peer has not seen yet; let it catch up first`)
  }
}

const FILE_REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  EACCES: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOENT: 'the directory does not exist',
  EISDIR: 'it is a directory'
}

/** A file system error writing `path` as a DestinationError naming its cause; anything else as it is. */
export function fileDestinationError (path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code
  const reason = code === undefined ? undefined : FILE_REASONS[code]
  if (reason === undefined) return error instanceof Error ? error : new Error(String(error))
  return new DestinationError(path, reason, { cause: error })
}
