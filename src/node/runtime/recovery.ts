/**
 * A node's start, up to the moment it may write: it joins the mesh and catches up with
 * its peers (../mesh/catch-up.ts) before anything of its own goes into its feed.
 *
 * A node whose identity.key is older than its store (the store was deleted and made anew,
 * or `cr store repair` rebuilt it) has written a feed that its peers hold and it may lack.
 * That is recovery (README, "Recovering a node"): it waits for a peer however long, takes
 * the farm's log and its own feed back, says so in the farm's log (`cr logs`), and only
 * then acts, so it continues its own chain and sees every job as finished as it is.
 */
import type { Logger } from '../log.js'
import { CatchUp, type CatchUpMesh, type CaughtUp } from '../mesh/catch-up.js'
import type { EventStore, StoreRecovery } from '../store/event-store.js'

/** Why a start recovers its store from peers. */
export type RecoveryReason = Exclude<StoreRecovery, 'none'>

export interface JoinInit {
  readonly store: Pick<EventStore, 'author' | 'recovery' | 'markRecovered' | 'append' | 'versionVector'>
  readonly mesh: CatchUpMesh & { start: () => Promise<void> }
  /** Whether identity.key was there before this start (identity.ts `hasIdentity`). */
  readonly identityExisted: boolean
  /** The node's name, for its log record. */
  readonly name: string
  readonly now: () => number
  readonly logger: Logger
  /** Aborted by a stop asked for during the wait (SIGTERM while recovering): nothing is written. */
  readonly signal?: AbortSignal | undefined
}

/**
 * A store made or rebuilt under a key that existed before has a feed to recover. A new
 * key has written nothing anywhere, so its new store is whole from the start.
 */
export function recoveryReason (store: StoreRecovery, identityExisted: boolean): RecoveryReason | null {
  return identityExisted && store !== 'none' ? store : null
}

/** Starts the mesh and resolves once the node holds what its peers hold; recovers first where it must. */
export async function joinCaughtUp (init: JoinInit): Promise<CaughtUp> {
  const { store, mesh, logger } = init
  const reason = recoveryReason(store.recovery, init.identityExisted)
  // The store's mark outlives a stop, so a recovery cut short resumes at the next start.
  if (reason === null && store.recovery !== 'none') await store.markRecovered()
  const catchUp = new CatchUp({ mesh, log: store, self: store.author, waitForPeer: reason === null ? 'within-window' : 'however-long', logger })
  try {
    if (reason !== null) {
      logger.info('recovering the log from peers', {
        reason: reason === 'created' ? 'the store is new but identity.key is not: the store was lost' : 'cr store repair rebuilt the store',
        ownFeedHeld: store.versionVector()[store.author] ?? 0
      })
    }
    init.signal?.throwIfAborted()
    init.signal?.addEventListener('abort', () => { catchUp.stop() }, { once: true })
    await mesh.start()
    const caughtUp = await catchUp.done()
    // A stopped catch-up resolves with what it has, which is not enough to write on.
    init.signal?.throwIfAborted()
    if (reason !== null) await recorded(init, reason, caughtUp)
    return caughtUp
  } finally {
    catchUp.stop()
  }
}

/** Tells the farm (in `cr logs`) and the node's own log that the store was recovered, then clears the store's mark. */
async function recorded (init: JoinInit, reason: RecoveryReason, caughtUp: CaughtUp): Promise<void> {
  const { store, logger } = init
  const peers = `${caughtUp.peers.length} peer${caughtUp.peers.length === 1 ? '' : 's'}`
  const description = `recovered its ${reason === 'created' ? 'lost' : 'repaired'} store from ${peers}: took in ${caughtUp.events} events, its own feed of ${caughtUp.ownFeed} events`
  await store.append({ type: 'log.recorded', clientName: init.name, jobId: null, block: null, description, outputTail: [] }, init.now())
  await store.markRecovered()
  logger.info('recovered from peers', { reason, peers: caughtUp.peers.length, events: caughtUp.events, ownFeed: caughtUp.ownFeed, waitedMs: caughtUp.waitedMs })
}
