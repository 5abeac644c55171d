/**
 * The names peers agree on: two gossip topics and one stream protocol. A version bump in
 * a name is how an incompatible change keeps old and new peers from misreading each other.
 */

/** Every new log event, pushed at once. Messages are events in wire form (src/protocol/encoding.ts). */
export const LOG_TOPIC = '/constellation/log/1.0.0'
/** Heartbeats and progress: never written to the log. Messages are ephemeral.ts's schema. */
export const EPHEMERAL_TOPIC = '/constellation/ephemeral/1.0.0'
/** Pull: swap version vectors, stream the missing events (sync.ts). */
export const SYNC_PROTOCOL = '/constellation/sync/1.0.0'
/** One message to one peer: hail, its answers, a holder's claim (direct.ts). */
export const DIRECT_PROTOCOL = '/constellation/direct/1.0.0'
/** One byte per interval each way on a long-lived stream, so a hung peer is noticed (keep-alive.ts). */
export const KEEP_ALIVE_PROTOCOL = '/constellation/keep-alive/1.0.0'
