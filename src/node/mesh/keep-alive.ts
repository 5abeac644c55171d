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
 * again), so the node says when its view shows a lease held (`setWorkInFlight`) and, while
 * none is, beats every idle interval and tolerates the idle timeout. It starts out brisk:
 * until it has caught up it does not know. Going brisk, it beats at once and gives every
 * peer a fresh brisk timeout, since peers beat idly until their own view shows the work (a
 * push away). Going idle, it tolerates the idle timeout at once but beats briskly for an
 * idle timeout more, so that a peer whose view lags behind ours still hears what it expects.
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
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
}

const BEAT = new Uint8Array([1])

export class KeepAlive {
  private readonly init: KeepAliveInit
  private readonly now: () => number
  private readonly watched = new Map<string, Watched>()
  private timer: NodeJS.Timeout | undefined
  private lastTickMs = 0
  private lastBeatMs = Number.NEGATIVE_INFINITY
  private workInFlight = true
  /** After work stopped: beats stay brisk until then. */
  private briskBeatsUntilMs = Number.POSITIVE_INFINITY
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
    this.lastTickMs = this.now()
    this.timer = setInterval(() => { this.tick() }, this.init.intervalMs)
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    this.init.host.removeEventListener('connection:open', this.onOpen)
    this.init.host.removeEventListener('connection:close', this.onClose)
    for (const { outbound } of this.watched.values()) outbound?.abort(new Error('keep-alive stopped'))
    this.watched.clear()
    await this.init.host.unhandle(KEEP_ALIVE_PROTOCOL)
  }

  /** Whether the node's view shows any lease held: brisk beats and timeouts while it does. */
  setWorkInFlight (busy: boolean): void {
    if (busy === this.workInFlight) return
    this.workInFlight = busy
    const nowMs = this.now()
    if (!busy) {
      this.briskBeatsUntilMs = nowMs + this.init.idleTimeoutMs
      return
    }
    this.briskBeatsUntilMs = Number.POSITIVE_INFINITY
    for (const watched of this.watched.values()) watched.lastHeardMs = Math.max(watched.lastHeardMs, nowMs)
    this.beat(nowMs)
  }

  private watch (connection: Connection): void {
    if (this.watched.has(connection.id) || connection.status !== 'open') return
    const watched: Watched = { connection, outbound: undefined, lastHeardMs: this.now() }
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
    const heard = (): void => {
      const watched = this.watched.get(connection.id)
      if (watched !== undefined) watched.lastHeardMs = this.now()
    }
    stream.addEventListener('message', heard)
    heard()
  }

  private tick (): void {
    const nowMs = this.now()
    // If our own event loop stalled (a long GC, a busy CPU), beats may be waiting unread in
    // the socket: give everyone a fresh timeout rather than blame the peers for our delay.
    const stalled = nowMs - this.lastTickMs > 1.5 * this.init.intervalMs
    this.lastTickMs = nowMs
    const timeoutMs = this.workInFlight ? this.init.timeoutMs : this.init.idleTimeoutMs
    for (const watched of this.watched.values()) {
      if (stalled) watched.lastHeardMs = nowMs
      const silentMs = nowMs - watched.lastHeardMs
      if (silentMs <= timeoutMs) continue
      const peer = watched.connection.remotePeer.toString()
      this.init.logger.info('peer unresponsive; dropping the connection', { peer, silentMs: Math.round(silentMs) })
      this.watched.delete(watched.connection.id)
      watched.connection.abort(new PeerUnresponsiveError(peer, silentMs))
    }
    // Ticks come every (brisk) interval; idly, a beat goes out on the tick nearest the idle interval.
    const brisk = nowMs < this.briskBeatsUntilMs
    if (brisk || nowMs - this.lastBeatMs >= this.init.idleIntervalMs - this.init.intervalMs / 2) this.beat(nowMs)
  }

  private beat (nowMs: number): void {
    this.lastBeatMs = nowMs
    for (const watched of this.watched.values()) {
      if (watched.outbound?.writeStatus === 'writable') watched.outbound.send(BEAT)
    }
  }
}
