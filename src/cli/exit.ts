/**
 * Exit codes scripts can rely on, and which failure gets which. Every command ends
 * through `exitCodeOf`, so one kind of failure exits alike whichever command met it.
 */
import { CommanderError } from 'commander'
import { NodeConfigError } from '../node/config/node-config.js'
import { JobFileError, NoPeerReachableError, NotAllowedError, SceneNotFoundError } from '../node/controller/errors.js'
import { DataDirIsFileError, IdentityFileError } from '../node/identity.js'
import { HolderRefusedError, type RefusalKind } from '../node/local/errors.js'
import { InvalidMeshConfigError, InvalidSwarmKeyError, SwarmKeyNotFoundError } from '../node/mesh/errors.js'
import { CorruptStoreError, StoreOpenError } from '../node/store/errors.js'
import { InvalidEventError } from '../protocol/errors.js'
import { AlteredTableError, DestinationAheadError, DestinationError, NewerSchemaError } from '../report/errors.js'

export const EXIT = {
  ok: 0,
  /** Anything that failed, including a job or node that does not exist. */
  failure: 1,
  /**
   * Bad flags or invalid input (a job field, a scene that is not there, a node config, a
   * swarm key or identity file that is missing or not one, a data dir that is a file):
   * nothing was written.
   */
  usage: 2,
  /**
   * The store is damaged (CorruptStoreError: `cr store check`, or `cr node` refusing to
   * start on it; `cr store repair` mends it) or LevelDB could not open it (StoreOpenError), or `cr store check` found the materialized
   * state different from a replay.
   */
  storeDamaged: 3,
  /** A write that no peer stored (or no peer to write to). */
  noPeer: 4,
  /** A change this identity may not make (another artist's job, a node's settings without the wrangler role). */
  notAllowed: 5,
  /**
   * A report destination that refused the export (unreachable, wrong password, read-only,
   * full, a table someone altered, a newer schema, rows ahead of this peer): it is as it was.
   */
  reportDestination: 6
} as const

/** A flag or argument the command cannot use, named as the person typed it. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  constructor (readonly flag: string, readonly why: string) {
    super(`${flag}: ${why}`)
  }
}

const USAGE_ERRORS = [
  UsageError, InvalidEventError, JobFileError, SceneNotFoundError, InvalidMeshConfigError, NodeConfigError,
  InvalidSwarmKeyError, SwarmKeyNotFoundError, IdentityFileError, DataDirIsFileError
]
const STORE_ERRORS = [CorruptStoreError, StoreOpenError]
const DESTINATION_ERRORS = [DestinationError, NewerSchemaError, AlteredTableError, DestinationAheadError]

/** A refusal the data directory's holder met for a command, exiting as the command would have had it met it itself. */
const EXIT_OF_REFUSAL: Readonly<Record<RefusalKind, number>> = {
  'not-allowed': EXIT.notAllowed,
  'no-peer': EXIT.noPeer,
  invalid: EXIT.usage,
  // A render node's data directory given to a command that writes: the wrong --data-dir.
  'read-only': EXIT.usage,
  failed: EXIT.failure
}

export function exitCodeOf (error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage
  if (error instanceof HolderRefusedError) return EXIT_OF_REFUSAL[error.kind]
  if (error instanceof NoPeerReachableError) return EXIT.noPeer
  if (error instanceof NotAllowedError) return EXIT.notAllowed
  if (STORE_ERRORS.some((kind) => error instanceof kind)) return EXIT.storeDamaged
  if (USAGE_ERRORS.some((kind) => error instanceof kind)) return EXIT.usage
  if (DESTINATION_ERRORS.some((kind) => error instanceof kind)) return EXIT.reportDestination
  // Unknown or ambiguous jobs and nodes land here too: they are failures, not bad syntax.
  return EXIT.failure
}
