/** The header on every screen: which farm, how many peers, whether we are caught up, who we are. */
import type { FarmSnapshot, HeartbeatSeen, SyncState } from './snapshot.js'

/**
 * How many events peers have said (in heartbeats) that they wrote and we do not hold yet:
 * 0 is caught up. A feed's length is its author's own count, so this needs no clock.
 */
export function eventsBehind (heartbeats: ReadonlyMap<string, HeartbeatSeen>, held: Readonly<Record<string, number>>): number {
  let behind = 0
  for (const [peer, beat] of heartbeats) behind += Math.max(0, beat.feedSeq - (held[peer] ?? 0))
  return behind
}

function syncText (sync: SyncState, behind: number): string {
  switch (sync.phase) {
    case 'opening':
      return 'opening the store'
    case 'looking-for-peers':
      return `looking for peers (${Math.round(sync.elapsedMs / 1000)} s)`
    case 'catching-up':
      return `catching up (${sync.appended} events so far)`
    case 'alone':
      return 'no peer reachable: this machine\'s copy, maybe out of date'
    case 'live':
      return behind === 0 ? 'caught up' : `${behind} events behind`
  }
}

export interface HeaderText {
  readonly farm: string
  readonly peers: string
  readonly sync: string
  readonly identity: string
}

export function headerOf (snapshot: Pick<FarmSnapshot, 'mesh' | 'heartbeats' | 'held'>): HeaderText {
  const { mesh } = snapshot
  return {
    farm: mesh.farm,
    peers: `${mesh.peersConnected} ${mesh.peersConnected === 1 ? 'peer' : 'peers'}`,
    sync: syncText(mesh.sync, eventsBehind(snapshot.heartbeats, snapshot.held)),
    identity: `…${mesh.identity.slice(-8)}`
  }
}
