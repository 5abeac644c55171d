/**
 * A command's side of the local endpoint (endpoint.ts): it connects to the process that
 * holds its data directory, when one does, and asks it instead of opening the store.
 */
import { connect, type Socket } from 'node:net'
import type { LogFilter } from '../controller/controller.js'
import type { DraftBody, VerifiedEvent } from '../../protocol/events.js'
import { decodeEvent } from '../../protocol/encoding.js'
import type { LogEntry } from '../../protocol/logs.js'
import { verifyEvent } from '../../protocol/signing.js'
import type { VersionVector } from '../../protocol/version-vector.js'
import { InvalidEventError } from '../../protocol/errors.js'
import { HolderGoneError, HolderRefusedError, LocalWireError, type Refusal } from './errors.js'
import { readFrames, writeFrame } from './frames.js'
import { parsePulled, parseRelayed, type Answer, type Hello, type Liveness, type Pulled, type Relayed, type Snapshot } from './messages.js'
import { socketPathOf } from './endpoint.js'

/** Errors that mean nobody listens for us: no socket file, one a killed holder left behind, or another user's. */
const NOBODY_LISTENS = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES'])

interface Pending {
  readonly resolve: (value: unknown) => void
  readonly reject: (error: Error) => void
}

export class LocalClient {
  private nextId = 0
  private readonly pending = new Map<number, Pending>()
  private readonly followers = new Map<number, (entry: LogEntry) => void>()
  private gone: Error | undefined

  private constructor (private readonly socket: Socket, readonly socketPath: string) {
    readFrames(socket, (value) => { this.receive(value as Answer) })
    socket.on('close', () => { this.fail(new HolderGoneError(socketPath)) })
    socket.on('error', (error) => { this.fail(new HolderGoneError(socketPath, { cause: error })) })
  }

  /** The holder of `dataDir`, or null when no process holds it. */
  static async connect (dataDir: string): Promise<LocalClient | null> {
    const socketPath = socketPathOf(dataDir)
    const socket = connect(socketPath)
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve)
        socket.once('error', reject)
      })
    } catch (error) {
      socket.destroy()
      if (NOBODY_LISTENS.has((error as NodeJS.ErrnoException).code ?? '')) return null
      throw error
    }
    return new LocalClient(socket, socketPath)
  }

  async hello (): Promise<Hello> {
    return await this.ask({ method: 'hello' }) as Hello
  }

  async snapshot (): Promise<Snapshot> {
    return await this.ask({ method: 'snapshot' }) as Snapshot
  }

  async liveness (): Promise<Liveness> {
    return await this.ask({ method: 'liveness' }) as Liveness
  }

  /** The events `have` lacks, as the holder read them; each is verified by the store that takes it in. */
  async pull (have: VersionVector): Promise<Pulled> {
    return parsePulled(await this.ask({ method: 'pull', have }))
  }

  /** Hands the holder events to admit as a peer's (at most MAX_RELAY_EVENTS); says what it holds then. */
  async relay (events: readonly Uint8Array[]): Promise<Relayed> {
    return parseRelayed(await this.ask({ method: 'relay', events }))
  }

  async logs (filter: LogFilter): Promise<LogEntry[]> {
    return await this.ask({ method: 'logs', filter }) as LogEntry[]
  }

  /** Calls `listener` with each matching log row the holder stores from now on. */
  follow (filter: LogFilter, listener: (entry: LogEntry) => void): void {
    const id = this.nextId++
    this.followers.set(id, listener)
    writeFrame(this.socket, { id, method: 'follow', filter })
  }

  /** Written by the holder and stored by a peer; the event comes back signed, and is checked as any other. */
  async write (body: DraftBody, timeoutMs: number): Promise<VerifiedEvent> {
    const bytes = await this.ask({ method: 'write', body, timeoutMs })
    if (!(bytes instanceof Uint8Array)) throw new LocalWireError('the holder answered a write with no event')
    return verifyEvent(decodeEvent(bytes))
  }

  /** Resolves if the holder goes away (a follow then has nothing more to say). */
  async closed (): Promise<Error> {
    if (this.gone !== undefined) return this.gone
    return await new Promise((resolve) => { this.socket.once('close', () => { resolve(this.gone ?? new HolderGoneError(this.socketPath)) }) })
  }

  close (): void {
    this.socket.destroy()
  }

  private async ask (request: { readonly method: string } & Record<string, unknown>): Promise<unknown> {
    if (this.gone !== undefined) throw this.gone
    const id = this.nextId++
    const answered = new Promise<unknown>((resolve, reject) => { this.pending.set(id, { resolve, reject }) })
    writeFrame(this.socket, { id, ...request })
    return await answered
  }

  private receive (answer: Answer): void {
    if ('entry' in answer) {
      this.followers.get(answer.id)?.(answer.entry)
      return
    }
    const pending = this.pending.get(answer.id)
    this.pending.delete(answer.id)
    if (pending === undefined) return
    if ('error' in answer) pending.reject(errorOf(answer.error))
    else pending.resolve(answer.ok)
  }

  private fail (error: Error): void {
    this.gone ??= error
    for (const { reject } of this.pending.values()) reject(this.gone)
    this.pending.clear()
  }
}

/** An invalid field as the error a command meets writing it itself, so it is named alike; any other refusal as the holder said it. */
function errorOf (refusal: Refusal): Error {
  if (refusal.kind === 'invalid' && refusal.field !== undefined && refusal.why !== undefined) return new InvalidEventError(refusal.field, refusal.why)
  return new HolderRefusedError(refusal.kind, refusal.message)
}
