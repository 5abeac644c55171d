/**
 * A render node as its data directory's local endpoint serves it: a command on the node's
 * machine reads the node's live copy of the farm at once, with no mesh of its own. A node
 * takes no writes from commands: its feed is its agent's alone.
 */
import { followLogReport, logReport } from '../controller/log-report.js'
import type { RenderNode } from '../runtime/render-node.js'
import type { LocalFarm } from './endpoint.js'

export function renderNodeFarm (node: Pick<RenderNode, 'peerId' | 'store' | 'mesh'>, farm: string): LocalFarm {
  const { store, mesh } = node
  return {
    peerId: node.peerId,
    farm,
    addresses: () => mesh.addresses(),
    // Caught up when it started; current while it hears any peer.
    reachedPeer: () => mesh.connectedPeers().length > 0,
    view: () => store.view(),
    livePeers: () => new Set(mesh.connectedPeers()),
    clockSkewOf: (peer) => mesh.clockSkewOf(peer),
    logs: async (filter) => logReport(store, filter),
    followLogs: (filter, listener) => followLogReport(store, filter, listener),
    refusalOf: (error) => ({ kind: 'failed', message: error instanceof Error ? error.message : String(error) })
  }
}
