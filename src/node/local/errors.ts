/** What can go wrong between a command and the process that holds its data directory. */

/** A frame that breaks the local wire's rules (too long, not CBOR, not a known message). */
export class LocalWireError extends Error {
  override readonly name = 'LocalWireError'
}

/** The holder went away (stopped, killed) before it answered. */
export class HolderGoneError extends Error {
  override readonly name = 'HolderGoneError'
  constructor (readonly socketPath: string, options?: ErrorOptions) {
    super(`the process holding ${socketPath} stopped before it answered; run the command again`, options)
  }
}

/** The holder refused or failed a request; `kind` says which of our errors it was, so the command exits as if it had met it itself. */
export class HolderRefusedError extends Error {
  override readonly name = 'HolderRefusedError'
  constructor (readonly kind: RefusalKind, message: string) {
    super(message)
  }
}

export type RefusalKind = 'not-allowed' | 'no-peer' | 'invalid' | 'read-only' | 'failed'

/** A failed request as the holder tells it: which kind, in words, and for an invalid field, which. */
export interface Refusal {
  readonly kind: RefusalKind
  readonly message: string
  readonly field?: string
  readonly why?: string
}

/**
 * The holder's store refused an event a command relayed (forged, malformed, off its chain,
 * a fork): the socket is local, yet a relayed event is admitted exactly as a peer's is.
 */
export class RelayRefusedError extends Error {
  override readonly name = 'RelayRefusedError'
  constructor (why: string, options?: ErrorOptions) {
    super(`the render node refused the relayed event: ${why}`, options)
  }
}
