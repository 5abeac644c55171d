/**
 * The farm's vocabulary: the named values of the seed's job, client and log tables, and
 * the limits that go with them. Every other module speaks in these names.
 */

/** Renderers a job can name. The seed's list, plus Arnold, Blender and a generic command. */
export const SOFTWARE = [
  'maya-mray',
  'maya-vray',
  'maya-arnold',
  'maya-hardware',
  'maya-software',
  'nuke',
  'blender',
  'arnold-kick',
  'vray-standalone',
  'procedural',
  'command'
] as const
export type Software = (typeof SOFTWARE)[number]

/** The seed's jobStatus. */
export const JOB_STATUS = ['QUEUE', 'RENDERING', 'HALT', 'DONE', 'ERROR'] as const
export type JobStatus = (typeof JOB_STATUS)[number]

/** A block's life: waiting for a node, held by one, finished, or failed for good. */
export const BLOCK_STATUS = ['QUEUE', 'CLAIMED', 'RENDERING', 'DONE', 'ERROR'] as const
export type BlockStatus = (typeof BLOCK_STATUS)[number]

/** The seed's clientStatus. OFFLINE needs liveness, which the log does not hold. */
export const CLIENT_STATUS = ['STANDBY', 'OFFLINE', 'RENDERING', 'ERROR'] as const
export type ClientStatus = (typeof CLIENT_STATUS)[number]

/** The seed's classification letters, used to route jobs to nodes. */
export const CLASSIFICATIONS = [
  'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M',
  'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z'
] as const
export type Classification = (typeof CLASSIFICATIONS)[number]

/** Why a block failed: fatal disables the job (seed: Error Return), retryable tries again. */
export const FAILURE_KINDS = ['fatal', 'retryable'] as const
export type FailureKind = (typeof FAILURE_KINDS)[number]

/**
 * Roles granted by signed events. Without one, a peer is an artist: it may submit jobs
 * and steer its own; a wrangler may steer every job and every node.
 */
export const ROLES = ['wrangler'] as const
export type Role = (typeof ROLES)[number]

export const PRIORITY_MIN = 0
export const PRIORITY_MAX = 99
export const DEFAULT_PRIORITY = 50
export const DEFAULT_BLOCK_SIZE = 1
export const DEFAULT_MAX_RETRIES = 3
export const MAX_RETRIES_LIMIT = 100
/** A job may span at most this many frames; beyond it a typo (1-10000000) is likelier than intent. */
export const MAX_FRAMES_PER_JOB = 1_000_000
/**
 * A job may split into at most this many blocks. Every peer holds a record per block and
 * a job's view is updated block by block, so this bounds what one job can cost the farm;
 * 1-1,000,000 at block size 1 is refused, at block size 20 it is fine.
 */
export const MAX_BLOCKS_PER_JOB = 50_000
/**
 * A block may hold at most this many frames, so that the event finishing it (a duration
 * per frame, each below FRAME_MS_MAX) always fits in the event size limit.
 */
export const MAX_FRAMES_PER_BLOCK = 10_000
/** A frame's render time is at most this (49 days): five bytes of CBOR each. */
export const FRAME_MS_MAX = 0xffff_ffff
/** Frames may be negative (pre-roll), within this bound. */
export const FRAME_NUMBER_LIMIT = 10_000_000
/**
 * A render timeout is set per frame, at most this (a week): a block's limit is that times
 * its frames, and beyond a week per frame a typo is likelier than intent.
 */
export const MAX_TIMEOUT_PER_FRAME_S = 7 * 86_400
/** -1 means unlimited, as in the seed's client table. */
export const UNLIMITED = -1
/** Lines of renderer output kept with a failure or a log record for the log report. */
export const OUTPUT_TAIL_LINES = 100
export const OUTPUT_LINE_MAX_CHARS = 400
/** Free-text fields (project, user, messages) are capped to keep events small. */
export const TEXT_MAX_CHARS = 1_000
export const PATH_MAX_CHARS = 4_096
