/**
 * Liveness and Hail (seed 4.0), SWIM-style, as a pure state machine. It hears heartbeats
 * (what each peer says it holds and whether it is idle), and when a lease holder falls
 * silent it hails it directly: "are you rendering block B at epoch e?". The answer comes
 * from the holder's real renderer state: "no" frees the block at once; no answer sends
 * the same question through k other peers (indirect probes, for a link that is down but a
 * node that is not) before the holder is declared dead. A transport disconnect (a
 * SIGKILLed process) starts the hail at once instead of waiting out the silence.
 *
 * An answer counts only when it answers a hail we have pending: from the peer we hailed,
 * under the unpredictable nonce we drew, or (indirectly) from one of the relays we chose.
 * Anything else changes nothing and is reported as `answer-refused`, for the mesh to score.
 * What we keep per peer, per relay and per ended probe is bounded, in count and in time.
 *
 * Time is passed in, randomness is injected, and every effect is returned as a command:
 * the simulator and the real node drive it alike.
 */
import type { BlockRef } from './scheduling.js'

/** How often a node says it is alive (and what it holds) on the ephemeral topic. */
export const HEARTBEAT_INTERVAL_MS = 500
/** Silence after which a holder is hailed: four beats, above gossip's burst delays (~0.9 s measured). */
export const HEARTBEAT_TIMEOUT_MS = 2_000
/**
 * How often a node that holds nothing and has nothing new to say beats instead: an idle
 * farm's heartbeats were most of its idle CPU. Whatever changes (a claim, the schedule's
 * verdict, its status or feed) goes out at the next beat, and a holder beats at the full rate.
 */
export const IDLE_HEARTBEAT_INTERVAL_MS = 5_000
/**
 * Silence after which a peer that last said it holds nothing no longer counts as a live
 * candidate: three idle beats. Only hand-outs wait on such a peer, and only for a rank's
 * stagger; a dropped connection takes it off the list at once.
 */
export const IDLE_HEARTBEAT_TIMEOUT_MS = 3 * IDLE_HEARTBEAT_INTERVAL_MS
/** A direct hail is a stream request (~5 ms on a LAN); this allows for a loaded peer. */
export const HAIL_TIMEOUT_MS = 1_000
/** The indirect probes go out together; each is two requests end to end. */
export const INDIRECT_HAIL_TIMEOUT_MS = 1_000
/** How many other peers are asked to hail a holder that did not answer us (SWIM's k). */
export const INDIRECT_HAIL_FANOUT = 3
/** The longest a hung holder goes from its last heartbeat to declared dead. */
export const DEAD_AFTER_SILENCE_MS = HEARTBEAT_TIMEOUT_MS + HAIL_TIMEOUT_MS + INDIRECT_HAIL_TIMEOUT_MS
/** Most indirect hails this node runs for others at once; further requests are dropped. */
export const MAX_PENDING_RELAYS = 64
/** Most indirect hails one requester may have us run at once (an honest one asks once per silent holder). */
export const MAX_RELAYS_PER_REQUESTER = 4
/**
 * How long a hail that ended (answered, timed out, made moot by a heartbeat) is remembered,
 * so the late or duplicate answers honest peers send (k relays answer one probe) are
 * ignored quietly rather than refused.
 */
export const LATE_ANSWER_GRACE_MS = HAIL_TIMEOUT_MS + INDIRECT_HAIL_TIMEOUT_MS
/** Most ended hails remembered at once; the oldest is forgotten first. */
export const MAX_SETTLED_HAILS = 256
/** A peer that holds no lease and has not been heard for this long is forgotten. */
export const FORGET_SILENT_PEER_MS = 10 * 60_000
/**
 * Most peers known at once, far above any studio's farm. Past it, hearing a new peer
 * forgets the longest-silent one that holds no lease, so a swarm of short-lived or forged
 * identities costs bounded memory; lease holders are kept (the log bounds them).
 */
export const MAX_KNOWN_PEERS = 2_048

/** A lease as a hail names it: block `block` of job `jobId` at `epoch`. */
export type LeaseRef = BlockRef

/** What a heartbeat says about its sender. */
export interface Beat {
  /** The lease it holds (claimed, settling or rendering), if any. */
  readonly lease: LeaseRef | null
  /** It holds nothing and runs no renderer: it can take a block. */
  readonly idle: boolean
  /** Its working-hour schedule lets it render now. */
  readonly mayRender: boolean
}

/**
 * A holder's answer to a hail: what it is rendering now, and how long its own feed is. A
 * longer feed than we hold means its log already says what became of the lease (finished,
 * failed, released): we catch up before freeing anything.
 */
export interface HailAnswer {
  readonly rendering: LeaseRef | null
  readonly feedSeq: number
}

type Probe =
  | { readonly stage: 'direct', readonly nonce: number, readonly lease: LeaseRef, readonly deadlineMs: number }
  | { readonly stage: 'indirect', readonly nonce: number, readonly lease: LeaseRef, readonly via: readonly string[], readonly deadlineMs: number }

/** What this node knows of one peer. A peer is hailed only while it holds a lease. */
export type PeerState =
  | { readonly kind: 'alive', readonly lastHeardMs: number, readonly beat: Beat | null }
  | { readonly kind: 'suspect', readonly lastHeardMs: number, readonly beat: Beat | null, readonly probe: Probe }
  | { readonly kind: 'dead', readonly sinceMs: number }

export type LivenessInput =
  | { readonly kind: 'tick', readonly nowMs: number }
  | { readonly kind: 'heartbeat', readonly from: string, readonly nowMs: number, readonly beat: Beat }
  /** The holder's own answer to a hail; `heldSeq`: how much of the holder's feed we hold. */
  | { readonly kind: 'hail-answered', readonly from: string, readonly nowMs: number, readonly nonce: number, readonly answer: HailAnswer, readonly heldSeq: number }
  /** A peer asks us to hail `target` for it and pass the answer back. */
  | { readonly kind: 'indirect-hail-requested', readonly from: string, readonly nowMs: number, readonly target: string, readonly nonce: number, readonly lease: LeaseRef }
  /** A peer passes back `target`'s answer to our indirect hail; `heldSeq` as above, of the target's feed. */
  | { readonly kind: 'indirect-hail-answered', readonly from: string, readonly nowMs: number, readonly target: string, readonly nonce: number, readonly answer: HailAnswer, readonly heldSeq: number }
  /** The transport lost its connection to `peer` (a killed process is seen in ~20 ms). */
  | { readonly kind: 'peer-disconnected', readonly peer: string, readonly nowMs: number }
  /** A controller starting up: hail every holder now, so the artist sees the truth. */
  | { readonly kind: 'hail-all', readonly nowMs: number }

/**
 * Why an answer was refused: `unsolicited`, we have no hail pending with its sender (or,
 * indirectly, about its target); `wrong-nonce`, we do, under another nonce; `not-a-relay`,
 * an indirect answer from a peer we did not ask to relay.
 */
export type AnswerRefusal = 'unsolicited' | 'wrong-nonce' | 'not-a-relay'

export type LivenessCommand =
  | { readonly kind: 'send-hail', readonly to: string, readonly nonce: number, readonly lease: LeaseRef }
  | { readonly kind: 'send-indirect-hail', readonly via: readonly string[], readonly target: string, readonly nonce: number, readonly lease: LeaseRef }
  | { readonly kind: 'send-indirect-answer', readonly to: string, readonly target: string, readonly nonce: number, readonly answer: HailAnswer }
  /** Verdict: `peer` answered no hail, directly or through others. Its leases are free at the next epoch. */
  | { readonly kind: 'declare-dead', readonly peer: string, readonly leases: readonly LeaseRef[] }
  /** Verdict: `holder` answered that it is not rendering `lease`. The block is free at once. */
  | { readonly kind: 'lease-freed', readonly holder: string, readonly lease: LeaseRef }
  /** Report: an answer from `from` was ignored; it changed nothing. Honest peers send these rarely (an answer later than the grace). */
  | { readonly kind: 'answer-refused', readonly from: string, readonly why: AnswerRefusal }

/** A hail we send on behalf of another peer's indirect probe. */
interface Relay {
  readonly requester: string
  readonly nonce: number
  readonly target: string
  readonly deadlineMs: number
}

/** A hail that ended: whose answers under its nonce are still expected, and until when. */
interface Settled {
  readonly target: string
  /** The relays that may still pass its answer back; none for a direct hail. */
  readonly via: readonly string[]
  readonly untilMs: number
}

type HailAnswered = Extract<LivenessInput, { kind: 'hail-answered' }>
type IndirectHailAnswered = Extract<LivenessInput, { kind: 'indirect-hail-answered' }>
type IndirectHailRequested = Extract<LivenessInput, { kind: 'indirect-hail-requested' }>

/** How much liveness holds now: each count stays within its bound, whatever the traffic. */
export interface LivenessFootprint {
  readonly peers: number
  readonly relays: number
  readonly settled: number
  readonly freed: number
}

/** A peer that is alive and said how it stands, for the scheduler's candidate list. */
export interface LivePeer {
  readonly peer: string
  readonly beat: Beat
}

export interface LivenessInit {
  readonly self: string
  /** Uniform in [0, 1): draws the hail nonces and picks the peers for indirect probes. */
  readonly random: () => number
  /**
   * Whether this node hails `holder` (about `lease`, the first it holds) when it falls
   * silent or its connection drops. On a farm of hundreds, every node hailing every silent
   * holder is hundreds of hails at the one node least able to answer, and hail traffic that
   * grows with the farm; a render node hails only the holders it watches (agent.ts: the few
   * peers a rendezvous ranking names, and the node that would take the block over). Absent,
   * every holder is hailed: a controller or a TUI, which show the verdicts, are few.
   */
  readonly watches?: (holder: string, lease: LeaseRef, nowMs: number) => boolean
}

/** How long a silent holder this node does not watch goes before it asks again whether it should (the watchers may have changed). */
export const UNWATCHED_RECHECK_MS = HEARTBEAT_INTERVAL_MS

/** How long a peer whose last beat was `beat` may be silent and still count as live. */
export function silenceToleratedMs (beat: Beat): number {
  return beat.lease === null ? IDLE_HEARTBEAT_TIMEOUT_MS : HEARTBEAT_TIMEOUT_MS
}

export function leaseKey (holder: string, lease: LeaseRef): string {
  return `${holder}/${lease.jobId}/${lease.block}/${lease.epoch}`
}

/** Whether `rendering` covers `lease`: the same block at its epoch or a later one. */
export function covers (rendering: LeaseRef | null, lease: LeaseRef): boolean {
  return rendering !== null && rendering.jobId === lease.jobId && rendering.block === lease.block && rendering.epoch >= lease.epoch
}

function sameBeat (a: Beat, b: Beat): boolean {
  if (a.idle !== b.idle || a.mayRender !== b.mayRender) return false
  if (a.lease === null || b.lease === null) return a.lease === b.lease
  return a.lease.jobId === b.lease.jobId && a.lease.block === b.lease.block && a.lease.epoch === b.lease.epoch
}

/**
 * Whether a peer going from `before` to `after` leaves what live() answers as it was: it
 * stays alive, says what it said, and had not yet fallen silent for too long (only its
 * silence starts afresh, which moves no one's standing sooner).
 */
function keepsLiveStanding (before: PeerState | undefined, after: PeerState): boolean {
  if (before === undefined || before.kind !== 'alive' || after.kind !== 'alive') return false
  if (before.beat === null || after.beat === null || !sameBeat(before.beat, after.beat)) return false
  return after.lastHeardMs - before.lastHeardMs <= silenceToleratedMs(before.beat)
}

export class Liveness {
  private readonly peers = new Map<string, PeerState>()
  /** Indirect hails we run for others, by the nonce we hail the target with. */
  private readonly relays = new Map<number, Relay>()
  /** Hails that ended, by nonce, oldest first. */
  private readonly settled = new Map<number, Settled>()
  private readonly freed = new Set<string>()
  /** The peers in `peers` that are suspect: what nextDueMs and nonceInUse look through, rather than every peer. */
  private readonly suspects = new Set<string>()
  private leases: ReadonlyMap<string, readonly LeaseRef[]> = new Map()
  /**
   * What live() last found, and until when it holds with no input in between (the first
   * moment one of them would fall silent for too long): a farm of hundreds of peers hears a
   * heartbeat every few milliseconds, most of them saying what they said before, and each
   * one used to sort every peer again. Null once a peer's standing changed.
   */
  private liveList: { readonly peers: readonly LivePeer[], readonly validUntilMs: number } | null = null
  private liveCount = 0
  /** Silent holders found not ours to hail, until when that answer stands. */
  private readonly unwatched = new Map<string, number>()
  private lastTickMs: number | null = null
  private verdictCount = 0

  constructor (private readonly init: LivenessInit) {}

  /** The leases the log shows, by holder: who may be hailed and about what. */
  observeLeases (leases: ReadonlyMap<string, readonly LeaseRef[]>): void {
    this.leases = leases
    for (const holder of this.unwatched.keys()) if (!leases.has(holder)) this.unwatched.delete(holder)
    const current = new Set([...leases].flatMap(([holder, held]) => held.map((lease) => leaseKey(holder, lease))))
    for (const key of this.freed) if (!current.has(key)) this.freed.delete(key)
  }

  handle (input: LivenessInput): LivenessCommand[] {
    switch (input.kind) {
      case 'tick':
        return this.tick(input.nowMs)
      case 'heartbeat':
        if (input.from === this.init.self) return []
        this.heard(input.from, input.nowMs, input.beat)
        return []
      case 'hail-answered':
        return this.directAnswer(input)
      case 'indirect-hail-answered':
        return this.indirectAnswer(input)
      case 'indirect-hail-requested':
        return this.relay(input)
      case 'peer-disconnected': {
        const state = this.peers.get(input.peer)
        if (state?.kind === 'alive' && this.leasesOf(input.peer).length > 0) return this.watching(input.peer, input.nowMs) ? this.hail(input.peer, input.nowMs) : []
        // A peer that holds nothing is simply no longer a candidate; a heartbeat brings it back.
        if (state?.kind === 'alive') this.dropPeer(input.peer)
        return []
      }
      case 'hail-all':
        return [...this.leases.keys()]
          .filter((holder) => holder !== this.init.self && this.peers.get(holder)?.kind !== 'suspect')
          .flatMap((holder) => this.hail(holder, input.nowMs))
    }
  }

  /**
   * The next moment a tick would act with no input in between (a holder's silence running
   * past HEARTBEAT_TIMEOUT_MS, a hail or a relayed hail timing out), or null: what lets an
   * idle node sleep until then rather than tick to find out.
   */
  nextDueMs (): number | null {
    let due = Number.POSITIVE_INFINITY
    for (const relay of this.relays.values()) due = Math.min(due, relay.deadlineMs)
    // Only suspects and holders can fall due: a farm of hundreds of idle peers costs nothing here.
    for (const peer of this.suspects) {
      const state = this.peers.get(peer)
      if (state?.kind === 'suspect') due = Math.min(due, state.probe.deadlineMs)
    }
    for (const holder of this.leases.keys()) {
      const state = this.peers.get(holder)
      // `tick` hails a holder once its silence is strictly longer than the timeout (and asks again later if it is not ours to hail).
      if (state?.kind === 'alive' && holder !== this.init.self) due = Math.min(due, Math.max(state.lastHeardMs + HEARTBEAT_TIMEOUT_MS + 1, this.unwatched.get(holder) ?? Number.NEGATIVE_INFINITY))
    }
    return due === Number.POSITIVE_INFINITY ? null : due
  }

  /** Peers declared dead: for `decideClaim`, their leases are runnable at the next epoch. */
  dead (): ReadonlySet<string> {
    return new Set([...this.peers].filter(([, state]) => state.kind === 'dead').map(([peer]) => peer))
  }

  /** Whether `holder` said it is not rendering `lease`: the block is free without waiting for the log. */
  isFreed (holder: string, lease: LeaseRef): boolean {
    return this.freed.has(leaseKey(holder, lease))
  }

  /** Peers heard within the timeout their last beat allows (see silenceToleratedMs) and not declared dead, with what they last said, by id. */
  live (nowMs: number): readonly LivePeer[] {
    if (this.liveList !== null && nowMs <= this.liveList.validUntilMs) return this.liveList.peers
    const live: LivePeer[] = []
    let validUntilMs = Number.POSITIVE_INFINITY
    for (const [peer, state] of this.peers) {
      if (state.kind === 'dead' || state.beat === null) continue
      const untilMs = state.lastHeardMs + silenceToleratedMs(state.beat)
      if (nowMs > untilMs) continue
      live.push({ peer, beat: state.beat })
      validUntilMs = Math.min(validUntilMs, untilMs)
    }
    live.sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
    this.liveList = { peers: live, validUntilMs }
    this.liveCount++
    return live
  }

  /** Grows whenever live() may answer otherwise than before: what lets a caller skip work on a list it already judged. */
  get liveRevision (): number {
    return this.liveCount
  }

  /** Grows whenever a verdict changes (a peer declared dead or back, a lease freed): a cheap "has anything changed". */
  get revision (): number {
    return this.verdictCount
  }

  state (peer: string): PeerState | undefined {
    return this.peers.get(peer)
  }

  footprint (): LivenessFootprint {
    return { peers: this.peers.size, relays: this.relays.size, settled: this.settled.size, freed: this.freed.size }
  }

  private setPeer (peer: string, state: PeerState): void {
    const before = this.peers.get(peer)
    if (!keepsLiveStanding(before, state)) this.liveList = null
    this.peers.set(peer, state)
    if (state.kind === 'suspect') this.suspects.add(peer)
    else this.suspects.delete(peer)
  }

  private dropPeer (peer: string): void {
    this.liveList = null
    this.peers.delete(peer)
    this.suspects.delete(peer)
  }

  /** Whether this node hails `holder` now (LivenessInit.watches). */
  private watching (holder: string, nowMs: number): boolean {
    const [lease] = this.leasesOf(holder)
    return lease !== undefined && (this.init.watches?.(holder, lease, nowMs) ?? true)
  }

  /** `watching` for a holder silent past the timeout: a "not ours" stands for UNWATCHED_RECHECK_MS, so ticks do not ask on and on. */
  private watchingSilent (holder: string, nowMs: number): boolean {
    if ((this.unwatched.get(holder) ?? Number.NEGATIVE_INFINITY) > nowMs) return false
    const watched = this.watching(holder, nowMs)
    if (watched) this.unwatched.delete(holder)
    else this.unwatched.set(holder, nowMs + UNWATCHED_RECHECK_MS)
    return watched
  }

  private leasesOf (peer: string): readonly LeaseRef[] {
    return this.leases.get(peer) ?? []
  }

  private heard (peer: string, nowMs: number, beat: Beat | null): void {
    this.unwatched.delete(peer)
    const state = this.peers.get(peer)
    const known = state === undefined || state.kind === 'dead' ? null : state.beat
    if (state?.kind === 'dead') this.verdictCount++
    if (state?.kind === 'suspect') this.settleProbe(peer, state.probe, nowMs)
    if (state === undefined && this.peers.size >= MAX_KNOWN_PEERS) this.forgetStalest()
    this.setPeer(peer, { kind: 'alive', lastHeardMs: nowMs, beat: beat ?? known })
  }

  /** Makes room for a new peer: forgets the one that holds no lease and was heard longest ago (the dead first). */
  private forgetStalest (): void {
    let stalest: { readonly peer: string, readonly heardMs: number } | null = null
    for (const [peer, state] of this.peers) {
      if (this.leasesOf(peer).length > 0) continue
      const heardMs = state.kind === 'dead' ? Number.NEGATIVE_INFINITY : state.lastHeardMs
      if (stalest === null || heardMs < stalest.heardMs) stalest = { peer, heardMs }
    }
    if (stalest !== null) this.dropPeer(stalest.peer)
  }

  /** An answer from the holder itself: to a hail we run as a relay, or to our own pending probe (late ones too). */
  private directAnswer (input: HailAnswered): LivenessCommand[] {
    const { from, nowMs, nonce, answer, heldSeq } = input
    const relay = this.relays.get(nonce)
    if (relay?.target === from) {
      this.relays.delete(nonce)
      this.settle(nonce, { target: from, via: [], untilMs: nowMs + LATE_ANSWER_GRACE_MS })
      return [...this.answered(from, nowMs, answer, heldSeq), { kind: 'send-indirect-answer', to: relay.requester, target: relay.target, nonce: relay.nonce, answer }]
    }
    const state = this.peers.get(from)
    if (state?.kind === 'suspect' && state.probe.nonce === nonce) return this.answered(from, nowMs, answer, heldSeq)
    if (this.settled.get(nonce)?.target === from) return []
    const hailed = state?.kind === 'suspect' || [...this.relays.values()].some((pending) => pending.target === from)
    return [{ kind: 'answer-refused', from, why: hailed ? 'wrong-nonce' : 'unsolicited' }]
  }

  /** A relay passes back the target's answer: it counts only from a relay we chose, under the probe's nonce. */
  private indirectAnswer (input: IndirectHailAnswered): LivenessCommand[] {
    const { from, target, nowMs, nonce, answer, heldSeq } = input
    const state = this.peers.get(target)
    const probe = state?.kind === 'suspect' && state.probe.stage === 'indirect' ? state.probe : null
    if (probe !== null && probe.nonce === nonce && probe.via.includes(from)) return this.answered(target, nowMs, answer, heldSeq)
    const settled = this.settled.get(nonce)
    if (settled?.target === target && settled.via.includes(from)) return []
    const why = probe === null ? 'unsolicited' : probe.via.includes(from) ? 'wrong-nonce' : 'not-a-relay'
    return [{ kind: 'answer-refused', from, why }]
  }

  /**
   * Hail `target` for a peer whose own hail it did not answer. Only holders are hailed, and
   * what we run for others is bounded: requests beyond the bounds are dropped.
   */
  private relay (input: IndirectHailRequested): LivenessCommand[] {
    const { from, target, nowMs } = input
    if (target === this.init.self || target === from || this.leasesOf(target).length === 0) return []
    if (this.relays.size >= MAX_PENDING_RELAYS) return []
    if ([...this.relays.values()].filter(({ requester }) => requester === from).length >= MAX_RELAYS_PER_REQUESTER) return []
    const nonce = this.drawNonce()
    this.relays.set(nonce, { requester: from, nonce: input.nonce, target, deadlineMs: nowMs + HAIL_TIMEOUT_MS })
    return [{ kind: 'send-hail', to: target, nonce, lease: input.lease }]
  }

  /**
   * An answer to a pending hail proves the peer alive. The leases it does not cover are
   * free at once, unless its feed is ahead of ours: then its log explains them, and the
   * pull that follows will.
   */
  private answered (peer: string, nowMs: number, answer: HailAnswer, heldSeq: number): LivenessCommand[] {
    this.heard(peer, nowMs, null)
    if (answer.feedSeq > heldSeq) return []
    const commands: LivenessCommand[] = []
    for (const lease of this.leasesOf(peer)) {
      if (covers(answer.rendering, lease) || this.freed.has(leaseKey(peer, lease))) continue
      this.freed.add(leaseKey(peer, lease))
      this.verdictCount++
      commands.push({ kind: 'lease-freed', holder: peer, lease })
    }
    return commands
  }

  private hail (peer: string, nowMs: number): LivenessCommand[] {
    const [lease] = this.leasesOf(peer)
    if (lease === undefined) return []
    const state = this.peers.get(peer)
    const lastHeardMs = state === undefined || state.kind === 'dead' ? nowMs : state.lastHeardMs
    const beat = state === undefined || state.kind === 'dead' ? null : state.beat
    const nonce = this.drawNonce()
    this.setPeer(peer, { kind: 'suspect', lastHeardMs, beat, probe: { stage: 'direct', nonce, lease, deadlineMs: nowMs + HAIL_TIMEOUT_MS } })
    return [{ kind: 'send-hail', to: peer, nonce, lease }]
  }

  private tick (nowMs: number): LivenessCommand[] {
    const paused = this.lastTickMs !== null && nowMs - this.lastTickMs > HEARTBEAT_TIMEOUT_MS
    this.lastTickMs = nowMs
    if (paused) {
      // We were stopped (SIGSTOP, a frozen VM): the silence was ours, not theirs. Start afresh.
      for (const [peer, state] of this.peers) {
        if (state.kind === 'dead') continue
        if (state.kind === 'suspect') this.settleProbe(peer, state.probe, nowMs)
        this.setPeer(peer, { kind: 'alive', lastHeardMs: nowMs, beat: state.beat })
      }
      for (const [nonce, relay] of this.relays) this.settle(nonce, { target: relay.target, via: [], untilMs: nowMs + LATE_ANSWER_GRACE_MS })
      this.relays.clear()
      return []
    }
    for (const [nonce, settled] of this.settled) if (nowMs >= settled.untilMs) this.settled.delete(nonce)
    for (const [nonce, relay] of this.relays) {
      if (nowMs < relay.deadlineMs) continue
      this.relays.delete(nonce)
      this.settle(nonce, { target: relay.target, via: [], untilMs: nowMs + LATE_ANSWER_GRACE_MS })
    }
    this.forget(nowMs)
    const commands: LivenessCommand[] = []
    for (const holder of this.leases.keys()) {
      if (holder === this.init.self) continue
      const state = this.peers.get(holder)
      // A holder never heard from (we just started, or it died before) gets a full timeout from now.
      if (state === undefined) this.setPeer(holder, { kind: 'alive', lastHeardMs: nowMs, beat: null })
      else if (state.kind === 'alive' && nowMs - state.lastHeardMs > HEARTBEAT_TIMEOUT_MS && this.watchingSilent(holder, nowMs)) commands.push(...this.hail(holder, nowMs))
    }
    for (const peer of [...this.suspects]) {
      const state = this.peers.get(peer)
      if (state?.kind === 'suspect' && nowMs >= state.probe.deadlineMs) commands.push(...this.escalate(peer, state, nowMs))
    }
    return commands
  }

  /** No answer in time: a direct hail goes indirect; an indirect one ends in a verdict. */
  private escalate (peer: string, state: Extract<PeerState, { kind: 'suspect' }>, nowMs: number): LivenessCommand[] {
    const { probe } = state
    const via = probe.stage === 'direct' ? this.pickRelays(peer, nowMs) : []
    if (via.length > 0) {
      this.setPeer(peer, { ...state, probe: { stage: 'indirect', nonce: probe.nonce, lease: probe.lease, via, deadlineMs: nowMs + INDIRECT_HAIL_TIMEOUT_MS } })
      return [{ kind: 'send-indirect-hail', via, target: peer, nonce: probe.nonce, lease: probe.lease }]
    }
    this.settleProbe(peer, probe, nowMs)
    this.setPeer(peer, { kind: 'dead', sinceMs: nowMs })
    this.verdictCount++
    return [{ kind: 'declare-dead', peer, leases: this.leasesOf(peer) }]
  }

  /** Peers that hold no lease and are dead, or alive but long silent, are forgotten: a heartbeat brings them back. */
  private forget (nowMs: number): void {
    for (const [peer, state] of this.peers) {
      if (this.leasesOf(peer).length > 0) continue
      if (state.kind === 'dead' || (state.kind === 'alive' && nowMs - state.lastHeardMs > FORGET_SILENT_PEER_MS)) this.dropPeer(peer)
    }
  }

  /** A nonce no pending or remembered hail uses, drawn uniformly from [0, MAX_SAFE_INTEGER] so a peer cannot guess it. */
  private drawNonce (): number {
    let nonce = Math.floor(this.init.random() * (Number.MAX_SAFE_INTEGER + 1))
    // A clash is all but impossible with a real source; stepping on keeps a fixed test source deterministic.
    while (this.nonceInUse(nonce)) nonce = nonce >= Number.MAX_SAFE_INTEGER ? 0 : nonce + 1
    return nonce
  }

  private nonceInUse (nonce: number): boolean {
    if (this.relays.has(nonce) || this.settled.has(nonce)) return true
    for (const peer of this.suspects) {
      const state = this.peers.get(peer)
      if (state?.kind === 'suspect' && state.probe.nonce === nonce) return true
    }
    return false
  }

  /** `peer`'s probe ended: its late answers, and those its relays pass back, are expected for a while. */
  private settleProbe (peer: string, probe: Probe, nowMs: number): void {
    this.settle(probe.nonce, { target: peer, via: probe.stage === 'indirect' ? probe.via : [], untilMs: nowMs + LATE_ANSWER_GRACE_MS })
  }

  private settle (nonce: number, settled: Settled): void {
    this.settled.delete(nonce)
    this.settled.set(nonce, settled)
    for (const oldest of this.settled.keys()) {
      if (this.settled.size <= MAX_SETTLED_HAILS) break
      this.settled.delete(oldest)
    }
  }

  /** Up to k live peers other than the target, chosen at random. */
  private pickRelays (target: string, nowMs: number): string[] {
    const pool = this.live(nowMs).map(({ peer }) => peer).filter((peer) => peer !== target)
    const chosen: string[] = []
    while (chosen.length < INDIRECT_HAIL_FANOUT && pool.length > 0) {
      const [peer] = pool.splice(Math.floor(this.init.random() * pool.length), 1)
      if (peer !== undefined) chosen.push(peer)
    }
    return chosen
  }
}
