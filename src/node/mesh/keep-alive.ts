/**
 * Noticing a hung peer within seconds. A peer that is stopped (SIGSTOP, a frozen VM, a
 * pulled cable) keeps its TCP connection open for minutes; we must drop it quickly so
 * that pulls and gossip go elsewhere and liveness code can act (config.ts has the pace).
 *
 * libp2p's connection monitor can do this (ping every second, 1 s timeout), but it opens
 * a new stream, negotiates the protocol and closes it for every ping on every connection;
 * measured on a 5-peer mesh that alone costs an idle peer about 1% of a core. Here each
 * side instead keeps one stream per connection open and writes one byte on it every
 * interval; a connection from which nothing was heard for the timeout is aborted. One
 * timer per node, whatever the number of connections.
 *
 * Each beat still costs a frame and its window update each way on every connection, which
 * on an idle farm was a third of a node's CPU. A farm with no work in flight needs no quick
 * verdict (no lease can be stuck on a hung peer, and the first claim makes every node brisk
 * again), so a node told that its view shows no lease held (`setWorkInFlight`) beats only
 * every idle interval. Each beat says which pace its sender keeps, and a peer is allowed
 * the silence of the pace it last declared: its own pace, not the listener's view, decides,
 * so nodes whose views differ for a while (one still catching up, a controller that runs no
 * agent) never time each other out. A sender changing pace beats at once, so the new
 * allowance starts before the old one runs out. A peer not heard from yet is allowed the
 * idle timeout; a holder's own view shows its lease, so a hung holder is dropped briskly.
 * The timer itself runs at the idle interval while this node beats idly and every peer
 * declared the idle pace, and at the brisk one as soon as either is brisk. A peer that beats
 * briskly is beaten briskly back, whatever our pace: a node of an earlier release allows
 * every peer only the brisk silence.
 */
import type { Connection, Libp2p, Stream, StreamMessageEvent } from '@libp2p/interface'
import type { Logger } from '../log.js'
import { PeerUnresponsiveError } from './errors.js'
import { KEEP_ALIVE_PROTOCOL } from './protocols.js'

export interface KeepAliveInit {
  readonly host: Pick<Libp2p, 'handle' | 'unhandle' | 'addEventListener' | 'removeEventListener' | 'getConnections'>
  readonly intervalMs: number
  readonly timeoutMs: number
  /** The pace while no work is in flight. */
  readonly idleIntervalMs: number
  readonly idleTimeoutMs: number
  readonly logger: Logger
  /** Monotonic clock in ms, injected for tests. */
  readonly now?: () => number
}

interface Watched {
  readonly connection: Connection
  outbound: Stream | undefined
  lastHeardMs: number
  /** The silence allowed: the timeout of the pace the peer last declared. */
  allowedSilenceMs: number
}

/** A beat's one byte: its sender's pace (a beat of an earlier release, 1, is brisk). */
const BRISK_BEAT = new Uint8Array([1])
const IDLE_BEAT = new Uint8Array([2])

/** The last byte of what a stream delivered: several beats read at once name the newest pace. */
function lastByte (data: StreamMessageEvent['data']): number | undefined {
  if (data.byteLength === 0) return undefined
  return data instanceof Uint8Array ? data[data.byteLength - 1] : data.get(data.byteLength - 1)
}

export class KeepAlive {
  private readonly init: KeepAliveInit
  private readonly now: () => number
  private readonly watched = new Map<string, Watched>()
  private timer: NodeJS.Timeout | undefined
  private lastTickMs = 0
  /** What the pending tick was scheduled after: a tick later than that by half again means our own loop stalled. */
  private tickDelayMs = 0
  private lastBeatMs = Number.NEGATIVE_INFINITY
  /** Brisk until told otherwise: a node that has not caught up does not know. */
  private workInFlight = true
  private readonly onOpen = (event: CustomEvent<Connection>): void => { this.watch(event.detail) }
  private readonly onClose = (event: CustomEvent<Connection>): void => { this.watched.delete(event.detail.id) }

  constructor (init: KeepAliveInit) {
    this.init = init
    this.now = init.now ?? (() => performance.now())
  }

  async start (): Promise<void> {
    await this.init.host.handle(KEEP_ALIVE_PROTOCOL, (stream, connection) => { this.hear(stream, connection) }, { maxInboundStreams: 1, maxOutboundStreams: 1 })
    this.init.host.addEventListener('connection:open', this.onOpen)
    this.init.host.addEventListener('connection:close', this.onClose)
    for (const connection of this.init.host.getConnections()) this.watch(connection)
    this.scheduleTick()
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    this.init.host.removeEventListener('connection:open', this.onOpen)
    this.init.host.removeEventListener('connection:close', this.onClose)
    for (const { outbound } of this.watched.values()) outbound?.abort(new Error('keep-alive stopped'))
    this.watched.clear()
    await this.init.host.unhandle(KEEP_ALIVE_PROTOCOL)
  }

  /** Whether the node's view shows any lease held: brisk beats while it does. */
  setWorkInFlight (busy: boolean): void {
    if (busy === this.workInFlight) return
    this.workInFlight = busy
    this.beat(this.now())
    if (busy) this.briskenTicks()
  }

  private watch (connection: Connection): void {
    if (this.watched.has(connection.id) || connection.status !== 'open') return
    const watched: Watched = { connection, outbound: undefined, lastHeardMs: this.now(), allowedSilenceMs: this.init.idleTimeoutMs }
    this.watched.set(connection.id, watched)
    connection.newStream(KEEP_ALIVE_PROTOCOL).then((stream) => {
      if (this.watched.get(connection.id) === watched) watched.outbound = stream
      else stream.abort(new Error('connection no longer watched'))
    }, (error: unknown) => {
      // The peer refuses the protocol or the connection is going: it will not be heard, and times out.
      this.init.logger.debug('cannot open keep-alive stream', { peer: connection.remotePeer.toString(), error })
    })
  }

  private hear (stream: Stream, connection: Connection): void {
    const heard = (pace: number | undefined): void => {
      const watched = this.watched.get(connection.id)
      if (watched === undefined) return
      watched.lastHeardMs = this.now()
      if (pace === undefined) return
      watched.allowedSilenceMs = pace === IDLE_BEAT[0] ? this.init.idleTimeoutMs : this.init.timeoutMs
      if (pace !== IDLE_BEAT[0]) this.briskenTicks()
    }
    stream.addEventListener('message', (event) => { heard(lastByte(event.data)) })
    heard(undefined)
  }

  private tick (): void {
    const nowMs = this.now()
    // If our own event loop stalled (a long GC, a busy CPU), beats may be waiting unread in
    // the socket: give everyone a fresh timeout rather than blame the peers for our delay.
    const stalled = nowMs - this.lastTickMs > 1.5 * this.tickDelayMs
    this.lastTickMs = nowMs
    for (const watched of this.watched.values()) {
      if (stalled) watched.lastHeardMs = nowMs
      const silentMs = nowMs - watched.lastHeardMs
      if (silentMs <= watched.allowedSilenceMs) continue
      const peer = watched.connection.remotePeer.toString()
      this.init.logger.info('peer unresponsive; dropping the connection', { peer, silentMs: Math.round(silentMs) })
      this.watched.delete(watched.connection.id)
      watched.connection.abort(new PeerUnresponsiveError(peer, silentMs))
    }
    // Idly, a beat goes to every peer on the tick nearest the idle interval, and on every tick
    // to a peer that beats briskly: it may be of a release that allows every peer only a brisk
    // silence, whatever its beats say, and it would drop an idle node every few seconds.
    if (this.workInFlight || nowMs - this.lastBeatMs >= this.init.idleIntervalMs - this.init.intervalMs / 2) {
      this.beat(nowMs)
      return
    }
    for (const watched of this.watched.values()) if (watched.allowedSilenceMs < this.init.idleTimeoutMs) this.send(watched)
  }

  /** The next tick after the brisk or the idle interval: brisk while we beat briskly or any peer may be silent only briefly. */
  private scheduleTick (): void {
    clearTimeout(this.timer)
    const brisk = this.workInFlight || [...this.watched.values()].some((watched) => watched.allowedSilenceMs < this.init.idleTimeoutMs)
    this.tickDelayMs = brisk ? this.init.intervalMs : this.init.idleIntervalMs
    this.lastTickMs = this.now()
    this.timer = setTimeout(() => {
      this.tick()
      // Unless the tick's drops stopped the keep-alive.
      if (this.timer !== undefined) this.scheduleTick()
    }, this.tickDelayMs)
  }

  /** Brings the next tick forward to the brisk interval, if the timer runs idly. */
  private briskenTicks (): void {
    if (this.timer !== undefined && this.tickDelayMs > this.init.intervalMs) this.scheduleTick()
  }

  /** A beat to every peer. */
  private beat (nowMs: number): void {
    this.lastBeatMs = nowMs
    for (const watched of this.watched.values()) this.send(watched)
  }

  /** One beat to one peer, saying our pace. */
  private send (watched: Watched): void {
    if (watched.outbound?.writeStatus === 'writable') watched.outbound.send(this.workInFlight ? BRISK_BEAT : IDLE_BEAT)
  }
}
