/**
 * A render node as its data directory's local endpoint serves it: a command on the node's
 * machine reads the node's live copy of the farm at once, with no mesh of its own. A node
 * takes no writes from commands (its feed is its agent's alone), but a command with a data
 * directory of its own pulls from it and relays its own signed events through it
 * (relayed-log.ts), which the node admits as a peer's and passes on to its peers.
 */
import { followLogReport, logReport } from '../controller/log-report.js'
import type { Logger } from '../log.js'
import type { RenderNode } from '../runtime/render-node.js'
import type { LocalFarm } from './endpoint.js'
import { admitRelayed, eventsMissingFrom } from './relayed-log.js'

export function renderNodeFarm (node: Pick<RenderNode, 'peerId' | 'store' | 'mesh'>, farm: string, logger: Logger): LocalFarm {
  const { store, mesh } = node
  /**
   * A relayed event came in by no gossip, so none of the node's peers has it yet. Pulling
   * from a peer shows it the node's version vector; a peer that lacks the event pulls it
   * back at once (sync.ts `onBehind`), sooner than the next anti-entropy round.
   */
  const tellPeers = (): void => {
    for (const peer of mesh.connectedPeers()) {
      mesh.pullFrom(peer).catch((error: unknown) => { logger.debug('could not tell a peer of a relayed event; anti-entropy will', { peer, error }) })
    }
  }
  return {
    peerId: node.peerId,
    farm,
    addresses: () => mesh.addresses(),
    // Caught up when it started; current while it hears any peer.
    reachedPeer: () => mesh.connectedPeers().length > 0,
    view: () => store.view(),
    // The node answering is up, whoever else is.
    livePeers: () => new Set([node.peerId, ...mesh.connectedPeers()]),
    clockSkewOf: (peer) => mesh.clockSkewOf(peer),
    logs: async (filter) => logReport(store, filter),
    followLogs: (filter, listener) => followLogReport(store, filter, listener),
    pull: async (have) => eventsMissingFrom(store, have),
    relay: async (events) => {
      try {
        return await admitRelayed(store, events)
      } catch (error) {
        logger.warn('refused an event a local command relayed', { error })
        throw error
      } finally {
        // A refused relay still keeps the events before the refused one.
        tellPeers()
      }
    },
    refusalOf: (error) => ({ kind: 'failed', message: error instanceof Error ? error.message : String(error) })
  }
}
