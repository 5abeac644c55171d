/**
 * Per-peer offence scores and bans. Every piece of bad input a peer sends costs it points
 * by kind; points decay with time, so an honest peer that once relayed something odd is
 * forgiven, while one that keeps sending garbage crosses the threshold, is disconnected and
 * refused (by the connection gater) for a while. Even peers with the swarm key are not
 * trusted: a compromised or buggy machine must not take the farm down with it.
 *
 * Two rules go beyond one offence at a time. Replays are free up to what honest traffic
 * produces and cost points beyond it (a flood of them is an attack). And since anyone
 * with the swarm key can make a new peer id, an address a banned peer came from lets in
 * new identities only one at a time while the ban lasts; peers admitted before stay welcome.
 */
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { StreamBufferError } from '@libp2p/interface'
import { InvalidDataLengthError, InvalidDataLengthLengthError, InvalidMessageLengthError } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { RejectionReason } from '../../protocol/errors.js'
import type { MeshConfig } from './config.js'

/** Why input was refused: the log's reasons plus the mesh's own. */
export type OffenceReason =
  | RejectionReason
  | 'protocol'
  | 'malformed-ephemeral'
  | 'malformed-direct'
  /** Input that names another peer as its source: a direct claim authored by someone else. */
  | 'misattributed'
  /** A heartbeat dated outside the window our clock allows (too old, or too far ahead). */
  | 'misdated-ephemeral'

/** Where the input came from. */
export type OffenceChannel = 'gossip' | 'sync' | 'ephemeral' | 'direct'

/** Input no honest peer sends, on any channel. */
const HOSTILE = { malformed: 4, oversized: 4, forged: 6, protocol: 4, 'malformed-ephemeral': 4, 'malformed-direct': 4, misattributed: 6 } as const

/** A machine whose clock is off is misconfigured, not hostile: its events wait, its heartbeats are dropped. */
const SKEWED = { 'clock-ahead': 0, 'misdated-ephemeral': 0 } as const

/**
 * Points per kind and channel. Input only a broken or hostile peer sends weighs most;
 * input an honest peer can send weighs nothing: such input is still dropped and logged.
 * - invalid: a peer running a newer version writes event types an older one finds invalid.
 * - forked: a fork is its author's fault, not the fault of the peer that relayed it.
 * - broken-chain: after an author forks, honest relays of the other branch look out of
 *   chain; on gossip that is rare enough to count a little, on sync it is expected.
 * - replayed: gossip of an event we already pulled (pull and push race all the time), or
 *   a pull that raced gossip: both innocent, so free here, but only up to the replay
 *   allowance (REPLAY_WINDOW_MS below); each replay beyond it costs EXCESS_REPLAY_POINTS.
 */
export const OFFENCE_POINTS: Readonly<Record<OffenceChannel, Readonly<Record<OffenceReason, number>>>> = {
  gossip: { ...HOSTILE, ...SKEWED, invalid: 0, 'broken-chain': 2, replayed: 0, forked: 0 },
  sync: { ...HOSTILE, ...SKEWED, invalid: 0, 'broken-chain': 0, replayed: 0, forked: 0 },
  ephemeral: { ...HOSTILE, ...SKEWED, invalid: 0, 'broken-chain': 0, replayed: 0, forked: 0 },
  direct: { ...HOSTILE, ...SKEWED, invalid: 0, 'broken-chain': 0, replayed: 0, forked: 0 }
}

/**
 * Replays are counted per peer in windows of this length. Honest replays come back within
 * seconds of the event they repeat (gossip keeps seconds of history; a pull races gossip
 * for the length of one session), so a minute holds them all.
 */
export const REPLAY_WINDOW_MS = 60_000
/**
 * Replays each peer may send per window whatever we appended: a pull retried after a cut
 * stream, the gossip copy of an event appended just before the window began.
 */
export const FREE_REPLAYS_PER_WINDOW = 60
/**
 * Further free replays per event we appended in this window and the one before. Every
 * honest replay repeats an event we took in shortly before, and one peer sends each such
 * event back about once per path: by gossip (we had pulled it), in a pull (gossip won the
 * race), by direct message (a claim); gossipsub drops further copies by message id. So
 * after a minute in which the farm wrote 100 events, each peer may replay 60 + 3 x 100 =
 * 360 in the next for free; a peer that replays more is repeating what the farm did not
 * just write: a flood.
 */
export const FREE_REPLAYS_PER_APPENDED_EVENT = 3
/** What each replay beyond the allowance costs: ten in a row reach the default ban threshold. */
export const EXCESS_REPLAY_POINTS = 1

/**
 * While a ban on a peer from some address is in force, identities we never admitted before
 * get in from that address at most one per this interval. A rogue with the swarm key makes
 * a new peer id in microseconds; this caps it to one fresh identity, and one ban's worth
 * of bad input, per interval. Peers we admitted before are never held back: honest peers
 * share an address behind NAT and on a test machine (127.0.0.1). An honest newcomer there
 * waits at most this long (discovery dials it again every few seconds).
 */
export const NEW_IDENTITY_INTERVAL_MS = 60_000

/** One refused input, as reported to listeners and logs. */
export interface Offence {
  readonly peer: string
  readonly channel: OffenceChannel
  readonly reason: OffenceReason
  /** The refusal's message: what was wrong, with the event's author and seq where known. */
  readonly detail: string
}

export interface OffenceVerdict {
  /** What this offence added: its kind's points, or for a replay 0 within the allowance. */
  readonly cost: number
  readonly points: number
  /** True when this offence crossed the threshold and the peer is now banned. */
  readonly banned: boolean
}

/** Why the gater refused a connection. */
export type RefusalReason =
  /** The peer itself is banned. */
  | 'banned'
  /** A new identity from an address with a ban in force, beyond one per NEW_IDENTITY_INTERVAL_MS. */
  | 'throttled'

/**
 * A length-prefixed stream refused a frame before we saw its bytes: a length beyond the
 * limit or more unread bytes than the buffer holds (oversized), or a length that is not
 * one (protocol). Undefined for other failures (a closed stream, a timeout).
 */
export function framingRefusal (error: unknown): { readonly reason: 'oversized' | 'protocol', readonly detail: string } | undefined {
  if (error instanceof InvalidDataLengthError || error instanceof InvalidDataLengthLengthError || error instanceof StreamBufferError) {
    return { reason: 'oversized', detail: error.message }
  }
  if (error instanceof InvalidMessageLengthError) return { reason: 'protocol', detail: error.message }
  return undefined
}

/** Beyond this many tracked peers, forgiven ones are dropped, so fresh ids cannot grow memory. */
const TRACKED_PEERS_SOFT_LIMIT = 10_000
/** Admitted peers remembered (the least recently admitted are forgotten first). */
const KNOWN_PEERS_LIMIT = 10_000

interface Score {
  points: number
  atMs: number
  /** The replay window (REPLAY_WINDOW_MS long, counted from 0) that `replays` counts. */
  replayWindow: number
  replays: number
}

interface AddressBan {
  untilMs: number
  /** When the last identity new to us was let in from this address since the ban. */
  lastNewIdentityMs: number | undefined
}

export class PeerOffences {
  private readonly scores = new Map<string, Score>()
  private readonly bans = new Map<string, number>()
  /** Peers the gater let in, with the address they last came from; least recently admitted first. */
  private readonly known = new Map<string, string | undefined>()
  private readonly bannedAddresses = new Map<string, AddressBan>()
  /** Events appended in the current replay window and the one before. */
  private readonly appended = { window: 0, current: 0, previous: 0 }
  private readonly config: MeshConfig['offences']
  private readonly now: () => number

  constructor (config: MeshConfig['offences'], now: () => number) {
    this.config = config
    this.now = now
  }

  /** Adds the offence's cost; bans the peer (and holds back new identities from its address) at the threshold. */
  record (offence: Offence): OffenceVerdict {
    const nowMs = this.now()
    const score = this.scoreOf(offence.peer, nowMs)
    const cost = offence.reason === 'replayed' ? this.replayCost(score, nowMs) : OFFENCE_POINTS[offence.channel][offence.reason]
    score.points += cost
    this.scores.set(offence.peer, score)
    if (this.scores.size > TRACKED_PEERS_SOFT_LIMIT) this.forget(nowMs)
    if (score.points < this.config.banThreshold || this.isBanned(offence.peer)) return { cost, points: score.points, banned: false }
    this.ban(offence.peer, nowMs)
    return { cost, points: score.points, banned: true }
  }

  /** An event was stored (ours or a peer's): honest peers may replay it, so it raises every peer's replay allowance. */
  noteAppended (): void {
    this.rollAppended(windowOf(this.now()))
    this.appended.current++
  }

  isBanned (peer: string): boolean {
    const until = this.bans.get(peer)
    if (until === undefined) return false
    if (this.now() < until) return true
    this.bans.delete(peer)
    return false
  }

  /**
   * Refuses connections to and from banned peers, both ways, and new identities beyond
   * one per NEW_IDENTITY_INTERVAL_MS from an address with a ban in force; `onRefused`
   * hears of each refusal.
   */
  gater (onRefused: (peer: string, why: RefusalReason) => void): ConnectionGater {
    const banned = (peer: string): boolean => {
      if (!this.isBanned(peer)) return false
      onRefused(peer, 'banned')
      return true
    }
    const deniedConnection = (peerId: PeerId, connection: MultiaddrConnection): boolean => {
      const peer = peerId.toString()
      if (banned(peer)) return true
      if (this.admit(peer, hostOf(connection.remoteAddr))) return false
      onRefused(peer, 'throttled')
      return true
    }
    return {
      denyDialPeer: (peerId) => banned(peerId.toString()),
      denyInboundEncryptedConnection: deniedConnection,
      denyOutboundEncryptedConnection: deniedConnection
    }
  }

  /** Lets `peer` in from `address` unless it is new and the address used its one new identity of the interval. */
  private admit (peer: string, address: string | undefined): boolean {
    const nowMs = this.now()
    const known = this.known.has(peer)
    const addressBan = address === undefined ? undefined : this.addressBanOf(address, nowMs)
    if (!known && addressBan !== undefined) {
      const last = addressBan.lastNewIdentityMs
      if (last !== undefined && nowMs - last < NEW_IDENTITY_INTERVAL_MS) return false
      addressBan.lastNewIdentityMs = nowMs
    }
    // Delete first, so the map's order is the order of admission.
    this.known.delete(peer)
    this.known.set(peer, address)
    if (this.known.size > KNOWN_PEERS_LIMIT) {
      const [oldest] = this.known.keys()
      if (oldest !== undefined) this.known.delete(oldest)
    }
    return true
  }

  private ban (peer: string, nowMs: number): void {
    const untilMs = nowMs + this.config.banDurationMs
    this.bans.set(peer, untilMs)
    this.scores.delete(peer)
    const address = this.known.get(peer)
    if (address === undefined) return
    for (const [other, ban] of this.bannedAddresses) {
      if (ban.untilMs <= nowMs) this.bannedAddresses.delete(other)
    }
    const existing = this.bannedAddresses.get(address)
    if (existing === undefined) this.bannedAddresses.set(address, { untilMs, lastNewIdentityMs: undefined })
    else existing.untilMs = Math.max(existing.untilMs, untilMs)
  }

  private addressBanOf (address: string, nowMs: number): AddressBan | undefined {
    const ban = this.bannedAddresses.get(address)
    if (ban === undefined || nowMs < ban.untilMs) return ban
    this.bannedAddresses.delete(address)
    return undefined
  }

  /** 0 within the peer's replay allowance for this window, EXCESS_REPLAY_POINTS beyond it. */
  private replayCost (score: Score, nowMs: number): number {
    const window = windowOf(nowMs)
    this.rollAppended(window)
    if (score.replayWindow !== window) {
      score.replayWindow = window
      score.replays = 0
    }
    score.replays++
    const allowance = FREE_REPLAYS_PER_WINDOW + FREE_REPLAYS_PER_APPENDED_EVENT * (this.appended.current + this.appended.previous)
    return score.replays > allowance ? EXCESS_REPLAY_POINTS : 0
  }

  private rollAppended (window: number): void {
    const { appended } = this
    if (appended.window === window) return
    appended.previous = window === appended.window + 1 ? appended.current : 0
    appended.current = 0
    appended.window = window
  }

  /** The peer's score with its points decayed to now. */
  private scoreOf (peer: string, nowMs: number): Score {
    const score = this.scores.get(peer)
    if (score === undefined) return { points: 0, atMs: nowMs, replayWindow: windowOf(nowMs), replays: 0 }
    return { ...score, points: this.decayed(score, nowMs), atMs: nowMs }
  }

  private decayed (score: Score, nowMs: number): number {
    const decay = ((nowMs - score.atMs) / 60_000) * this.config.decayPerMinute
    return Math.max(0, score.points - decay)
  }

  private forget (nowMs: number): void {
    const window = windowOf(nowMs)
    for (const [peer, score] of this.scores) {
      if (this.decayed(score, nowMs) === 0 && score.replayWindow !== window) this.scores.delete(peer)
    }
  }
}

function windowOf (nowMs: number): number {
  return Math.floor(nowMs / REPLAY_WINDOW_MS)
}

/** IPv4 reached over IPv6, as multiaddr writes it (`::ffff:7f00:1`) or as people do (`::ffff:127.0.0.1`). */
const IPV4_MAPPED = /^::ffff:(?:(\d{1,3}(?:\.\d{1,3}){3})|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i

/** The IP address of a connection's far end; IPv4 reached over IPv6 counts as that IPv4 address. */
function hostOf (address: Multiaddr): string | undefined {
  const ip = address.getComponents().find((component) => component.name === 'ip4' || component.name === 'ip6')?.value
  const mapped = ip === undefined ? null : IPV4_MAPPED.exec(ip)
  if (mapped === null) return ip
  const [, dotted, high = '0', low = '0'] = mapped
  if (dotted !== undefined) return dotted
  const [a, b] = [Number.parseInt(high, 16), Number.parseInt(low, 16)]
  return [a >> 8, a & 0xff, b >> 8, b & 0xff].join('.')
}
