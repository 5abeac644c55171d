/**
 * Pull: the stream protocol that guarantees convergence whatever gossip lost. The puller
 * sends its version vector; the server answers with its own, then streams exactly the
 * events the puller lacks, feed by feed in seq order, in batches bounded in count and
 * bytes. The puller grants credit one batch at a time as it ingests them, so the server
 * is never more than a window ahead and neither side buffers more than it agreed to.
 * Frames are in wire.ts; when and with whom to pull is scheduler.ts's business.
 *
 * A server that learns from the puller's vector that the puller holds events it lacks
 * reports it (`onBehind`), so one exchange tells both sides what to fetch.
 */
import { StreamBufferError, type Libp2p, type PeerId, type Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { ReplayedEventError } from '../../protocol/errors.js'
import { missingFrom, type FeedRange, type VersionVector } from '../../protocol/version-vector.js'
import type { Logger } from '../log.js'
import type { MeshConfig } from './config.js'
import { MeshStoppingError, PeerOffenceError, SyncIdleTimeoutError, SyncProtocolError } from './errors.js'
import type { IngestingLog, IngestOutcome } from './ingest.js'
import { framingRefusal, OFFENCE_POINTS, type Offence } from './offences.js'
import { SYNC_PROTOCOL } from './protocols.js'
import {
  BATCH_EVENT_OVERHEAD_BYTES, BATCH_FRAME_OVERHEAD_BYTES, MAX_CONTROL_FRAME_BYTES,
  decodeToPuller, decodeToServer, encodeFrame, type PullFrame, type SyncFrame
} from './wire.js'

/** What sync needs of the store. */
export interface SyncLog extends IngestingLog {
  versionVector: () => VersionVector
  readFeed: (author: string, fromSeq: number, limit: number) => Promise<Uint8Array[]>
}

export interface PullResult {
  /** Events new to us. */
  readonly appended: number
  /** The session stopped at its event limit: pull again for the rest. */
  readonly more: boolean
}

export interface SyncServiceInit {
  readonly host: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>
  readonly log: SyncLog
  readonly config: MeshConfig['sync']
  readonly logger: Logger
  /** Bad input from a peer, for scoring and logging. */
  readonly onOffence: (offence: Offence) => void
  /** A peer that pulled from us holds events we lack. */
  readonly onBehind: (peer: PeerId) => void
}

/** Concurrent sync streams per connection: a pull each way, plus one overlapping a retry. */
const MAX_SYNC_STREAMS_PER_CONNECTION = 2

export class SyncService {
  private readonly init: SyncServiceInit
  /** Sessions in flight, each with a promise that settles when it no longer touches the store. */
  private readonly sessions = new Map<FramedSession, Promise<void>>()
  private stopped = false

  constructor (init: SyncServiceInit) {
    this.init = init
  }

  async start (): Promise<void> {
    await this.init.host.handle(SYNC_PROTOCOL, async (stream, connection) => {
      await this.serve(stream, connection.remotePeer)
    }, { maxInboundStreams: MAX_SYNC_STREAMS_PER_CONNECTION, maxOutboundStreams: MAX_SYNC_STREAMS_PER_CONNECTION })
  }

  /** Abandons every session in flight and waits until none touches the store any more. */
  async stop (): Promise<void> {
    this.stopped = true
    await this.init.host.unhandle(SYNC_PROTOCOL)
    const sessions = [...this.sessions]
    for (const [session] of sessions) session.stream.abort(new MeshStoppingError())
    await Promise.all(sessions.map(async ([, finished]) => finished))
  }

  /**
   * Pulls what `peer` holds and we lack. Offences are reported before this rejects.
   * `onHave` hears the peer's version vector as it stood when the session began.
   */
  async pull (peer: PeerId, onHave?: (vector: VersionVector) => void): Promise<PullResult> {
    const { config } = this.init
    const stream = await this.init.host.dialProtocol(peer, SYNC_PROTOCOL)
    return this.run(stream, peer.toString(), {
      maxFrameBytes: Math.max(MAX_CONTROL_FRAME_BYTES, config.batchMaxBytes),
      // Bounded by the credit window: a have frame plus `window` batches in flight.
      maxBufferBytes: MAX_CONTROL_FRAME_BYTES + config.windowBatches * config.batchMaxBytes
    }, async (session) => this.runPull(session, onHave))
  }

  /** A failure rejects to libp2p, which aborts the stream; the session has reported it already. */
  private async serve (stream: Stream, peer: PeerId): Promise<void> {
    await this.run(stream, peer.toString(), {
      maxFrameBytes: MAX_CONTROL_FRAME_BYTES,
      maxBufferBytes: 2 * MAX_CONTROL_FRAME_BYTES
    }, async (session) => this.runServe(session, peer))
  }

  private async runPull (session: FramedSession, onHave: ((vector: VersionVector) => void) | undefined): Promise<PullResult> {
    const { config, log } = this.init
    const ours = log.versionVector()
    await session.write({
      t: 'pull',
      vv: ours,
      window: config.windowBatches,
      maxBatchEvents: config.batchMaxEvents,
      maxBatchBytes: config.batchMaxBytes,
      maxEvents: config.maxEventsPerSession
    })
    const have = decodeToPuller(await session.read(), session.peer)
    if (have.t !== 'have') throw new SyncProtocolError(session.peer, `expected have, got ${have.t}`)
    onHave?.(have.vv)
    const expected = Math.min(countEvents(missingFrom(ours, have.vv)), config.maxEventsPerSession)
    const stuck = new Set<string>()
    let received = 0
    let appended = 0
    for (;;) {
      const frame = decodeToPuller(await session.read(), session.peer)
      if (frame.t === 'done') break
      if (frame.t !== 'events') throw new SyncProtocolError(session.peer, 'sent have twice')
      if (frame.events.length > config.batchMaxEvents) throw new SyncProtocolError(session.peer, `sent a batch of ${frame.events.length} events; ${config.batchMaxEvents} were allowed`)
      received += frame.events.length
      if (received > expected) throw new SyncProtocolError(session.peer, `sent ${received} events where ${expected} were missing`)
      appended += this.judge(await log.ingestBatch(frame.events), session.peer, stuck)
      // No credit after the last batch: the server is done and may have closed.
      if (received < expected) await session.write({ t: 'credit', n: 1 })
    }
    await session.stream.close()
    return { appended, more: received === config.maxEventsPerSession }
  }

  private async runServe (session: FramedSession, peer: PeerId): Promise<void> {
    const pull = decodeToServer(await session.read(), session.peer)
    if (pull.t !== 'pull') throw new SyncProtocolError(session.peer, `expected pull, got ${pull.t}`)
    const mine = this.init.log.versionVector()
    await session.write({ t: 'have', vv: mine })
    if (missingFrom(mine, pull.vv).length > 0) this.init.onBehind(peer)
    let credit = pull.window
    for await (const events of this.batches(missingFrom(pull.vv, mine), this.limitsFor(pull))) {
      while (credit === 0) {
        const frame = decodeToServer(await session.read(), session.peer)
        if (frame.t !== 'credit') throw new SyncProtocolError(session.peer, 'sent pull twice')
        credit = Math.min(pull.window, frame.n)
      }
      await session.write({ t: 'events', events })
      credit--
    }
    await session.write({ t: 'done' })
    await session.stream.close()
  }

  /** The smaller of what the puller accepts and what we are willing to send. */
  private limitsFor (pull: PullFrame): BatchLimits {
    const { config } = this.init
    return {
      events: Math.min(pull.maxBatchEvents, config.batchMaxEvents),
      bytes: Math.min(pull.maxBatchBytes, config.batchMaxBytes),
      total: Math.min(pull.maxEvents, config.maxEventsPerSession)
    }
  }

  /** The ranges' events in seq order, cut into batches within the limits. */
  private async * batches (ranges: readonly FeedRange[], limits: BatchLimits): AsyncGenerator<Uint8Array[]> {
    let batch: Uint8Array[] = []
    let batchBytes = BATCH_FRAME_OVERHEAD_BYTES
    let budget = limits.total
    for (const range of ranges) {
      let seq = range.fromSeq
      while (seq <= range.toSeq && budget > 0) {
        const page = await this.init.log.readFeed(range.author, seq, Math.min(limits.events, range.toSeq - seq + 1, budget))
        // The store holds less than its vector said (it cannot, but a later pull would fix it).
        if (page.length === 0) break
        for (const event of page) {
          const size = event.length + BATCH_EVENT_OVERHEAD_BYTES
          if (batch.length > 0 && (batch.length >= limits.events || batchBytes + size > limits.bytes)) {
            yield batch
            batch = []
            batchBytes = BATCH_FRAME_OVERHEAD_BYTES
          }
          batch.push(event)
          batchBytes += size
        }
        seq += page.length
        budget -= page.length
      }
    }
    if (batch.length > 0) yield batch
  }

  /**
   * Counts the appended events of a batch and judges the rest. Input no honest server
   * sends ends the session; a refusal an honest server can cause (a fork it holds the other
   * branch of, an event type too new for us) is reported, and that author skipped.
   */
  private judge (outcomes: readonly IngestOutcome[], peer: string, stuck: Set<string>): number {
    let appended = 0
    for (const outcome of outcomes) {
      if (outcome.kind === 'appended') {
        appended++
        continue
      }
      if (outcome.kind === 'gap') {
        if (stuck.has(outcome.author)) continue
        throw new SyncProtocolError(peer, `sent ${outcome.author}#${outcome.got} while we hold up to #${outcome.have}`)
      }
      const { error: refusal } = outcome
      const offence: Offence = { peer, channel: 'sync', reason: refusal.reason, detail: refusal.message }
      if (refusal instanceof ReplayedEventError) {
        // Gossip delivered it while the batch was on its way: free, unless the peer replays more than that explains.
        this.init.onOffence(offence)
        continue
      }
      if (OFFENCE_POINTS.sync[refusal.reason] > 0) throw new PeerOffenceError(offence)
      const author = refusal.ref?.author
      if (author !== undefined && !stuck.has(author)) {
        stuck.add(author)
        this.init.onOffence(offence)
      }
    }
    return appended
  }

  /** Runs one exchange on `stream`; the one place where a failed exchange is reported and the stream aborted. */
  private async run<T> (stream: Stream, peer: string, sizes: FrameSizes, work: (session: FramedSession) => Promise<T>): Promise<T> {
    if (this.stopped) {
      // A pull that was dialling while we stopped.
      stream.abort(new MeshStoppingError())
      throw new MeshStoppingError()
    }
    const session = new FramedSession(stream, peer, sizes, this.init.config.idleTimeoutMs)
    const running = work(session)
    // For stop() to wait on; the exchange's failure is reported and rethrown below.
    const finished = running.then(() => undefined, () => undefined)
    this.sessions.set(session, finished)
    try {
      return await running
    } catch (error) {
      this.fail(session, error as Error)
      throw error
    } finally {
      session.end()
      this.sessions.delete(session)
    }
  }

  private fail (session: FramedSession, error: Error): void {
    const { peer, stream } = session
    // A frame over the limit or a flood past the buffer may surface as a failed write; the stream saw it first.
    const framing = framingRefusal(session.overflow ?? error)
    if (error instanceof PeerOffenceError) {
      this.init.onOffence(error.offence)
    } else if (error instanceof SyncProtocolError) {
      this.init.onOffence({ peer, channel: 'sync', reason: error.reason, detail: error.why })
    } else if (framing !== undefined) {
      this.init.onOffence({ peer, channel: 'sync', reason: framing.reason, detail: framing.detail })
    } else if (stream.status === 'open') {
      // The stream is fine, so the failure is ours (the store, most likely).
      this.init.logger.warn('sync failed', { peer, error })
    } else {
      this.init.logger.debug('sync stream ended early', { peer, error })
    }
    stream.abort(error)
  }
}

interface BatchLimits {
  readonly events: number
  readonly bytes: number
  readonly total: number
}

interface FrameSizes {
  readonly maxFrameBytes: number
  readonly maxBufferBytes: number
}

/** One sync stream: length-prefixed frames and an idle timer that each frame re-arms. */
class FramedSession {
  /** The peer sent more than the read buffer holds: the stream was aborted with this, whatever we were doing. */
  overflow: StreamBufferError | undefined
  private readonly framed: LengthPrefixedStream<Stream>
  private readonly idleTimer: NodeJS.Timeout

  constructor (readonly stream: Stream, readonly peer: string, sizes: FrameSizes, idleMs: number) {
    this.framed = lpStream(stream, { maxDataLength: sizes.maxFrameBytes, maxBufferSize: sizes.maxBufferBytes })
    this.idleTimer = setTimeout(() => { stream.abort(new SyncIdleTimeoutError(peer, idleMs)) }, idleMs)
    stream.addEventListener('close', ({ error }) => {
      if (error instanceof StreamBufferError) this.overflow = error
    }, { once: true })
  }

  async read (): Promise<Uint8Array> {
    const frame = await this.framed.read()
    this.idleTimer.refresh()
    return frame.subarray()
  }

  async write (frame: SyncFrame): Promise<void> {
    await this.framed.write(encodeFrame(frame))
    this.idleTimer.refresh()
  }

  end (): void {
    clearTimeout(this.idleTimer)
  }
}

function countEvents (ranges: readonly FeedRange[]): number {
  return ranges.reduce((sum, range) => sum + range.toSeq - range.fromSeq + 1, 0)
}
