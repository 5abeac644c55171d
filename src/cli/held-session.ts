/**
 * A command whose data directory another process holds (a running `cr logs --follow`,
 * the TUI, a render node): it asks that process over the local endpoint instead of
 * failing on the store's lock. Reads come from the holder's live copy, with no mesh to
 * join; writes go through the holder's one store, so one identity's feed has one writer.
 */
import type { FarmReads } from '../node/controller/farm-reads.js'
import type { LocalClient } from '../node/local/client.js'
import type { Snapshot } from '../node/local/messages.js'

/** The farm as the holder saw it when the command asked, and its log live. */
export function heldFarm (holder: LocalClient, snapshot: Snapshot): FarmReads {
  const live = new Set(snapshot.livePeers)
  return {
    view: () => snapshot.view,
    livePeers: () => live,
    clockSkewOf: (peer) => snapshot.clockSkews[peer] ?? null,
    logs: async (filter = {}) => holder.logs(filter),
    followLogs: (filter, listener) => {
      holder.follow(filter, listener)
      // The follow ends with the connection, when the command closes it.
      return () => undefined
    }
  }
}

/** `work`'s value, unless the holder goes away first (then its error says so). */
export async function unlessHolderLeaves<T> (holder: LocalClient, work: Promise<T>): Promise<T> {
  return await Promise.race([work, holder.closed().then((gone) => { throw gone })])
}
