/**
 * What a controller can fail at, as typed errors with a stable `name` and what a person
 * needs to act: the job or node asked for, the data directory, how long we waited.
 */
import { InvalidEventError } from '../../protocol/errors.js'
import type { FactRefusal } from '../../protocol/fact-rules.js'

/** This identity may not state that fact (authority.ts): nothing was written. */
export class NotAllowedError extends Error {
  override readonly name = 'NotAllowedError'
  constructor (readonly author: string, readonly type: string, readonly refusal: FactRefusal) {
    super(`not allowed: ${refusal.why} (this identity is ${author}; a wrangler can grant it the role with cr wrangler add)`)
  }
}

/** No peer stored our event in time. The event is not lost: it stays in our feed. */
export class NoPeerReachableError extends Error {
  override readonly name = 'NoPeerReachableError'
  constructor (readonly dataDir: string, readonly waitedMs: number, readonly written: boolean) {
    super(written
      ? `no peer stored the change within ${waitedMs / 1000} s; it is kept in this machine's log (${dataDir}) and replicates the next time a cr command or node using that data directory meets a peer`
      : `no peer was reachable within ${waitedMs / 1000} s, so nothing was written; check the swarm key, --peer addresses and that a render node runs`)
  }
}

/** Another process (a running node, a `cr logs --follow`) holds the data directory's store. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError'
  constructor (readonly dataDir: string, options?: ErrorOptions) {
    super(`the store in ${dataDir} is in use by another process (a node or another cr command); give this command its own --data-dir`, options)
  }
}

export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError'
  constructor (readonly ref: string) {
    super(`no job ${JSON.stringify(ref)}: give its id, short id, a unique prefix or its name (see cr jobs)`)
  }
}

export class AmbiguousJobError extends Error {
  override readonly name = 'AmbiguousJobError'
  constructor (readonly ref: string, readonly candidates: readonly string[]) {
    super(`${JSON.stringify(ref)} names ${candidates.length} jobs (${candidates.join(', ')}); give one's short id`)
  }
}

export class NodeNotFoundError extends Error {
  override readonly name = 'NodeNotFoundError'
  constructor (readonly ref: string) {
    super(`no node ${JSON.stringify(ref)}: give its name or peer id (see cr nodes)`)
  }
}

export class AmbiguousNodeError extends Error {
  override readonly name = 'AmbiguousNodeError'
  constructor (readonly ref: string, readonly candidates: readonly string[]) {
    super(`${JSON.stringify(ref)} names ${candidates.length} nodes (${candidates.join(', ')}); give the peer id`)
  }
}

/** One job field refused: which, why, and whether it was left out altogether. */
export interface JobFieldProblem {
  readonly field: string
  readonly why: string
  readonly missing: boolean
}

/**
 * A submission with invalid fields, every one of them named at once, so a person fixes
 * them in one go. It is an InvalidEventError for its first field, for callers that show one.
 */
export class InvalidJobFieldsError extends InvalidEventError {
  constructor (readonly problems: readonly [JobFieldProblem, ...JobFieldProblem[]]) {
    super(problems[0].field, problems[0].why)
    // Two fields set by one flag (--frames) can fail alike: said once.
    const lines = [...new Set(problems.map(lineOf))]
    this.message = lines.length === 1 ? lines.join('') : `${lines.length} job fields are invalid:\n${lines.map((line) => `  ${line}`).join('\n')}`
  }
}

function lineOf (problem: JobFieldProblem): string {
  return problem.missing ? `${problem.field} is required` : `invalid ${problem.field}: ${problem.why}`
}

/** A job file that cannot be read or parsed; the fields themselves are checked by the protocol. */
export class JobFileError extends Error {
  override readonly name = 'JobFileError'
  constructor (readonly file: string, readonly why: string, options?: ErrorOptions) {
    super(`job file ${file}: ${why}`, options)
  }
}

/** The job's scene is not on this machine, where the artist submits from. */
export class SceneNotFoundError extends Error {
  override readonly name = 'SceneNotFoundError'
  constructor (readonly scenePath: string) {
    super(`scene not found: ${scenePath} (use --allow-missing-scene if only the render nodes can see it)`)
  }
}

/** A method that needs an open controller was called before open or after close. */
export class ControllerClosedError extends Error {
  override readonly name = 'ControllerClosedError'
  constructor () {
    super('the controller is not open')
  }
}
