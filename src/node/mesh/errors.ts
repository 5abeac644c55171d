/**
 * What can go wrong in the mesh, as typed errors with a stable `name` and the context a
 * person needs: the file, the peer, the field. Refusals of events themselves are the
 * protocol's (`EventRejectedError` in src/protocol/errors.ts); these are the mesh's own.
 */
import type { Offence } from './offences.js'

/** No swarm key where one was expected; `cr key generate` writes one. */
export class SwarmKeyNotFoundError extends Error {
  override readonly name = 'SwarmKeyNotFoundError'
  constructor (readonly path: string) {
    super(`no swarm key at ${path}; create one with \`cr key generate\` and copy it to every machine of the studio`)
  }
}

/** Refusing to overwrite a swarm key: doing so would cut this machine off the farm. */
export class SwarmKeyExistsError extends Error {
  override readonly name = 'SwarmKeyExistsError'
  constructor (readonly path: string) {
    super(`a swarm key already exists at ${path}; replacing it cuts this machine off every peer that keeps the old one`)
  }
}

export class InvalidSwarmKeyError extends Error {
  override readonly name = 'InvalidSwarmKeyError'
  constructor (readonly source: string, readonly why: string) {
    super(`invalid swarm key in ${source}: ${why}`)
  }
}

export class InvalidMeshConfigError extends Error {
  override readonly name = 'InvalidMeshConfigError'
  constructor (readonly field: string, readonly why: string) {
    super(`invalid mesh setting ${field}: ${why}`)
  }
}

/** A peer broke the sync protocol: a frame it should not send, or more events than asked for. */
export class SyncProtocolError extends Error {
  override readonly name = 'SyncProtocolError'
  readonly reason = 'protocol'
  constructor (readonly peer: string, readonly why: string) {
    super(`sync with ${peer} broke the protocol: ${why}`)
  }
}

/** An ephemeral message that does not fit the schema or the size limit. */
export class InvalidEphemeralMessageError extends Error {
  override readonly name = 'InvalidEphemeralMessageError'
  readonly reason = 'malformed-ephemeral'
  constructor (readonly why: string) {
    super(`invalid ephemeral message: ${why}`)
  }
}

export class InvalidDirectMessageError extends Error {
  override readonly name = 'InvalidDirectMessageError'
  readonly reason = 'malformed-direct'
  constructor (readonly why: string) {
    super(`invalid direct message: ${why}`)
  }
}

/** A direct message could not be delivered: the peer is gone, unreachable or too slow. */
export class DirectSendError extends Error {
  override readonly name = 'DirectSendError'
  constructor (readonly peer: string, readonly messageType: string, cause: unknown) {
    super(`could not send ${messageType} to ${peer}: ${(cause as Error | undefined)?.message ?? String(cause)}`, { cause })
  }
}

/** An operation that needs a running mesh was called before start or after stop. */
export class MeshNotRunningError extends Error {
  override readonly name = 'MeshNotRunningError'
  constructor (readonly operation: string) {
    super(`cannot ${operation}: the mesh is not running`)
  }
}

/** A sync stream stayed silent past the idle timeout. */
export class SyncIdleTimeoutError extends Error {
  override readonly name = 'SyncIdleTimeoutError'
  constructor (readonly peer: string, readonly idleMs: number) {
    super(`sync with ${peer} was idle for ${idleMs} ms`)
  }
}

/** The mesh is stopping: in-flight work is abandoned, not failed. */
export class MeshStoppingError extends Error {
  override readonly name = 'MeshStoppingError'
  constructor () {
    super('the mesh is stopping')
  }
}

/** A peer sent input bad enough to end the exchange; carries the offence to score. */
export class PeerOffenceError extends Error {
  override readonly name = 'PeerOffenceError'
  constructor (readonly offence: Offence) {
    super(`${offence.peer} sent ${offence.reason} input on ${offence.channel}: ${offence.detail}`)
  }
}

/** Nothing was heard from a peer for longer than the keep-alive timeout: it hangs or is cut off. */
export class PeerUnresponsiveError extends Error {
  override readonly name = 'PeerUnresponsiveError'
  constructor (readonly peer: string, readonly silentMs: number) {
    super(`nothing heard from ${peer} for ${Math.round(silentMs)} ms`)
  }
}

/**
 * A peer holds more of this node's own feed than the node could take from it: the two
 * copies differ past some seq, so the feed has forked already (one identity on two
 * machines, or a store put back from a backup after the node wrote on). Writing on would
 * extend the fork, so the node does not start.
 */
export class OwnFeedNotRecoveredError extends Error {
  override readonly name = 'OwnFeedNotRecoveredError'
  constructor (readonly self: string, readonly held: number, readonly atPeer: number, readonly peer: string) {
    super(`${peer} holds this node's own feed (${self}) to #${atPeer}, but only #${held} could be taken from it: the copies differ, ` +
      'so this identity\'s feed has forked (was this data directory copied to another machine?). ' +
      'Stop every machine that uses this identity.key, keep one, and start the others as new nodes (remove their identity.key and store/)')
  }
}
