/**
 * The local endpoint: whichever process holds a data directory's store (a `cr` command,
 * the TUI, a `cr logs --follow`, a render node) listens on `<data dir>/cr.sock`, so other
 * commands using that data directory are answered by it instead of failing on LevelDB's
 * lock: reads from its live copy at once, with no mesh of their own to join, and writes
 * through its one store, so one identity's feed is only ever extended by one process.
 * A render node also serves a command of another data directory on its machine: that
 * command pulls what its own store lacks and relays its own events, which the node admits
 * as a peer's and passes on (relayed-log.ts). The socket is made owner-only inside the
 * owner-only data directory.
 */
import { createHash } from 'node:crypto'
import { chmod, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import path from 'node:path'
import type { FarmReads } from '../controller/farm-reads.js'
import type { Logger } from '../log.js'
import type { DraftBody, VerifiedEvent } from '../../protocol/events.js'
import { encodeEvent } from '../../protocol/encoding.js'
import type { VersionVector } from '../../protocol/version-vector.js'
import type { Refusal } from './errors.js'
import { readFrames, writeFrame } from './frames.js'
import { parseRequest, type Answer, type Hello, type Liveness, type Pulled, type Relayed, type Request, type Snapshot } from './messages.js'

/** Unix socket paths are bounded by the kernel (108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH_BYTES = 103
/**
 * A closing holder waits this long for a command that asked it something to ask again or
 * hang up: a command reads a snapshot, then writes, and cutting it off in between would
 * fail a write nobody had refused. A command that stays quiet longer is cut off.
 */
export const CLOSE_GRACE_MS = 2_000
/**
 * However busy a command keeps a closing holder, it waits no longer than this for the
 * command's next request (requests already taken are still answered): a command that asks
 * every second, or a stuck one, must not hold a node's shutdown for ever.
 */
export const CLOSE_SESSION_LIMIT_MS = 10_000

/** What the holder of a data directory serves: the reads a command makes of the farm, and more. */
export interface LocalFarm extends FarmReads {
  readonly peerId: string
  readonly farm: string
  readonly addresses: () => readonly string[]
  readonly reachedPeer: () => boolean
  /** Absent where the holder takes no writes (a render node). */
  readonly write?: (body: DraftBody, timeoutMs: number) => Promise<VerifiedEvent>
  /** The events `have` lacks (relayed-log.ts), for a command with a store of its own; absent where the holder serves none (a command's controller). */
  readonly pull?: (have: VersionVector) => Promise<Pulled>
  /** Admits a command's own events as a peer's and passes them on to the mesh; absent with `pull`. */
  readonly relay?: (events: readonly Uint8Array[]) => Promise<Relayed>
  /** Which of our errors a failed request met, so the asking command fails as it would have. */
  readonly refusalOf: (error: unknown) => Refusal
  /** Settles once the holder's copy is fit to answer from (its catch-up ended); until then requests wait. */
  readonly ready?: Promise<unknown>
}

export function socketPathOf (dataDir: string): string {
  return path.join(dataDir, 'cr.sock')
}

/** One command's connection, as a closing holder weighs it: mid-session, following, or gone quiet. */
class Connection {
  /** Requests taken and not yet answered: a close lets them finish first. */
  private readonly answering = new Set<Promise<unknown>>()
  following = false
  /** When it last asked or was last answered: the quiet a closing holder waits out runs from there. */
  private lastActiveAt = performance.now()

  constructor (readonly socket: Socket) {}

  took (answered: Promise<unknown>): void {
    this.lastActiveAt = performance.now()
    this.answering.add(answered)
    const settled = (): void => {
      this.answering.delete(answered)
      this.lastActiveAt = performance.now()
    }
    answered.then(settled, settled)
  }

  /**
   * Settles once the command is done with us: it hung up, or it has nothing waiting and
   * asked nothing for CLOSE_GRACE_MS, or `untilMs` (performance.now()) has passed. A follow
   * is never done, so it settles at once, once its other requests are answered (the
   * follower then follows whoever holds the data directory next).
   */
  async done (untilMs: number): Promise<void> {
    while (!this.socket.destroyed) {
      await Promise.allSettled([...this.answering])
      if (this.answering.size > 0) continue
      const nowMs = performance.now()
      const quietFor = nowMs - this.lastActiveAt
      if (this.following || quietFor >= CLOSE_GRACE_MS || nowMs >= untilMs) return
      await new Promise<void>((resolve) => {
        const hungUp = (): void => {
          clearTimeout(waited)
          resolve()
        }
        const waited = setTimeout(() => {
          this.socket.off('close', hungUp)
          resolve()
        }, Math.min(CLOSE_GRACE_MS - quietFor, untilMs - nowMs))
        this.socket.once('close', hungUp)
      })
    }
  }
}

export class LocalEndpoint {
  private readonly connections = new Set<Connection>()

  private constructor (private readonly server: Server, readonly socketPath: string) {}

  /**
   * Listens for the data directory's other commands. Only the store's holder calls this
   * (LevelDB's lock says it is one), so a socket file left by a killed holder is stale and
   * replaced. Null where the path is too long for a Unix socket: other commands then meet
   * the lock, as before.
   */
  static async open (dataDir: string, farm: LocalFarm, logger: Logger): Promise<LocalEndpoint | null> {
    const socketPath = socketPathOf(dataDir)
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
      logger.warn('the data directory\'s path is too long for a local socket: other cr commands cannot share it while this one runs', { socketPath })
      return null
    }
    await rm(socketPath, { force: true })
    const endpoint = new LocalEndpoint(createServer(), socketPath)
    endpoint.server.on('connection', (socket) => { endpoint.serve(socket, farm, logger) })
    await new Promise<void>((resolve, reject) => {
      endpoint.server.once('error', reject)
      endpoint.server.listen(socketPath, () => { resolve() })
    })
    await chmod(socketPath, 0o600)
    return endpoint
  }

  /**
   * Takes no more connections, answers what it already took (a write another command
   * waits on must not be cut off halfway, its outcome unknown to it) and what the commands
   * mid-session still ask, for at most `sessionLimitMs` (see Connection.done), then ends
   * every connection; follows end with it. The holder closes its store only after this.
   */
  async close (sessionLimitMs = CLOSE_SESSION_LIMIT_MS): Promise<void> {
    const untilMs = performance.now() + sessionLimitMs
    const closed = new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
    await rm(this.socketPath, { force: true })
    await Promise.all([...this.connections].map(async (connection) => connection.done(untilMs)))
    for (const { socket } of this.connections) socket.destroy()
    await closed
  }

  private serve (socket: Socket, farm: LocalFarm, logger: Logger): void {
    const connection = new Connection(socket)
    this.connections.add(connection)
    const unfollow: (() => void)[] = []
    socket.on('close', () => {
      this.connections.delete(connection)
      for (const stop of unfollow) stop()
    })
    socket.on('error', (error) => { logger.debug('a local command\'s connection failed', { error }) })
    const answer = (value: Answer): void => {
      if (!socket.destroyed) writeFrame(socket, value)
    }
    const ready = farm.ready ?? Promise.resolve()
    readFrames(socket, (value) => {
      const request = parseRequest(value)
      if (request.method === 'follow') connection.following = true
      const answered = ready.then(async () => {
        if (request.method !== 'follow') return await answerOf(farm, request)
        if (!socket.destroyed) unfollow.push(farm.followLogs(request.filter, (entry) => { answer({ id: request.id, entry }) }))
        return null
      }).then((reply) => { if (reply !== null) answer(reply) }, (error: unknown) => {
        answer({ id: request.id, error: farm.refusalOf(error) })
      }).catch((error: unknown) => {
        // An answer that cannot be sent (over the frame bound): the asker hears the connection end.
        logger.warn('could not answer a local command', { error })
        socket.destroy()
      })
      connection.took(answered)
    })
  }
}

async function answerOf (farm: LocalFarm, request: Exclude<Request, { method: 'follow' }>): Promise<Answer> {
  switch (request.method) {
    case 'hello': return { id: request.id, ok: helloOf(farm) }
    case 'snapshot': return { id: request.id, ok: snapshotOf(farm) }
    case 'liveness': return { id: request.id, ok: livenessOf(farm) }
    case 'logs': return { id: request.id, ok: await farm.logs(request.filter) }
    case 'pull': return farm.pull === undefined ? relaysNothing(request.id) : { id: request.id, ok: await farm.pull(request.have) }
    case 'relay': return farm.relay === undefined ? relaysNothing(request.id) : { id: request.id, ok: await farm.relay(request.events) }
    case 'write': {
      if (farm.write === undefined) return { id: request.id, error: { kind: 'read-only', message: 'this data directory belongs to a running render node, which takes no writes from commands; give the command its own --data-dir' } }
      const written = await farm.write(request.body, request.timeoutMs)
      return { id: request.id, ok: encodeEvent(written.event) }
    }
  }
}

/** Only a render node serves its log to commands: a command's controller leaves with its command. */
function relaysNothing (id: number): Answer {
  return { id, error: { kind: 'failed', message: 'this process relays no events: a command writes through its data directory\'s holder or this machine\'s render node' } }
}

function snapshotOf (farm: LocalFarm): Snapshot {
  return { ...helloOf(farm), ...livenessOf(farm), view: farm.view() }
}

function livenessOf (farm: LocalFarm): Liveness {
  const livePeers = [...farm.livePeers()]
  const clockSkews: Record<string, number> = {}
  for (const peer of livePeers) {
    const skew = farm.clockSkewOf(peer)
    if (skew !== null) clockSkews[peer] = skew
  }
  return { reachedPeer: farm.reachedPeer(), livePeers, clockSkews }
}

function helloOf (farm: LocalFarm): Hello {
  return { peerId: farm.peerId, farm: farm.farm, addresses: farm.addresses(), writable: farm.write !== undefined }
}

/** A short, one-way name of a farm's swarm key: equal keys, equal names; the key is not in it. */
export function farmFingerprint (psk: Uint8Array): string {
  return createHash('sha256').update(psk).digest('hex').slice(0, 16)
}
