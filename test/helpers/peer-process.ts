/**
 * Real peer processes for mesh tests: spawns a fixture program (test/fixtures/mesh/*.ts)
 * under tsx, optionally inside a network namespace (`ip netns exec`), and talks to it over
 * its control channel (test/fixtures/mesh/control.ts): `request` sends a command and
 * awaits the answer, `nextEvent` waits for news such as an offence or a connection.
 *
 * Waits have a generous hang guard, not a deadline under test: when something never
 * happens, the failure names what was awaited and shows the peer's last log lines
 * instead of a bare test timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

const FIXTURES = fileURLToPath(new URL('../fixtures/mesh/', import.meta.url))
/** Long enough for any healthy wait on a loaded 2-core machine; short enough to fail before ava's own timeout. */
export const HANG_GUARD_MS = 60_000
const STDERR_TAIL_LINES = 40

export interface PeerNews {
  readonly event: string
  readonly [field: string]: unknown
}

export interface StartPeerOptions {
  /** Fixture file name in test/fixtures/mesh, e.g. 'peer.ts'. */
  readonly program: string
  readonly args: readonly string[]
  /** Run inside this network namespace (made by test/helpers/netns.ts). */
  readonly netns?: string
  /** A name for failure messages. */
  readonly label: string
}

interface Pending {
  readonly resolve: (result: unknown) => void
  readonly reject: (error: Error) => void
}

export class PeerProcess {
  readonly label: string
  readonly news: PeerNews[] = []
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private readonly child: ChildProcess
  private readonly pending = new Map<number, Pending>()
  private readonly waiters = new Set<() => void>()
  private readonly stderrTail: string[] = []
  private nextId = 1
  private exitedAlready = false

  private constructor (child: ChildProcess, label: string) {
    this.child = child
    this.label = label
    this.exited = once(child, 'exit').then(([code, signal]) => {
      this.exitedAlready = true
      for (const { reject } of this.pending.values()) reject(new Error(`${label} exited (${String(code ?? signal)})\n${this.tail()}`))
      this.pending.clear()
      this.notify()
      return { code: code as number | null, signal: signal as NodeJS.Signals | null }
    })
    if (child.stdout === null || child.stderr === null) throw new Error('peer process needs piped stdio')
    createInterface({ input: child.stdout }).on('line', (line) => { this.onLine(line) })
    createInterface({ input: child.stderr }).on('line', (line) => {
      this.stderrTail.push(line)
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift()
    })
  }

  /** Spawns the program and waits for its `ready` news. */
  static async start (options: StartPeerOptions): Promise<PeerProcess> {
    const node = [process.execPath, '--import', 'tsx', `${FIXTURES}${options.program}`, ...options.args]
    const [command, ...args] = options.netns === undefined ? node : ['ip', 'netns', 'exec', options.netns, ...node]
    if (command === undefined) throw new Error('nothing to spawn')
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    const peer = new PeerProcess(child, options.label)
    await peer.nextEvent((news) => news.event === 'ready', 'ready')
    return peer
  }

  /** Sends a command and resolves with its result; rejects with the peer's error. */
  async request<T = Record<string, unknown>> (cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exitedAlready) throw new Error(`${this.label} has exited; cannot ${cmd}`)
    const id = this.nextId++
    const answer = new Promise<unknown>((resolve, reject) => { this.pending.set(id, { resolve, reject }) })
    this.child.stdin?.write(`${JSON.stringify({ ...args, id, cmd })}\n`)
    return await this.guard(answer, `answer to ${cmd}`) as T
  }

  /** The first news, past or future, that matches. */
  async nextEvent (match: (news: PeerNews) => boolean, what: string): Promise<PeerNews> {
    return this.guard(new Promise<PeerNews>((resolve, reject) => {
      const check = (): void => {
        const found = this.news.find(match)
        if (found !== undefined) {
          this.waiters.delete(check)
          resolve(found)
        } else if (this.exitedAlready) {
          this.waiters.delete(check)
          reject(new Error(`${this.label} exited while waiting for ${what}\n${this.tail()}`))
        }
      }
      this.waiters.add(check)
      check()
    }), what)
  }

  /** Asks the peer to stop and waits for it to exit by itself (it lingers only if it leaked a timer or socket). */
  async stop (): Promise<void> {
    if (this.exitedAlready) return
    await this.request('stop')
    const { code } = await this.guard(this.exited, 'exit after stop (a lingering process leaked a timer or a socket)')
    if (code !== 0) throw new Error(`${this.label} exited with ${String(code)} after stop\n${this.tail()}`)
  }

  /** The peer id it announced when ready. */
  get id (): string {
    const ready = this.news.find((news) => news.event === 'ready')
    if (typeof ready?.peerId !== 'string') throw new Error(`${this.label} has not announced its peer id`)
    return ready.peerId
  }

  kill (signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exitedAlready) this.child.kill(signal)
  }

  /** The peer's last log lines, for failure messages. */
  tail (): string {
    return `--- last log lines of ${this.label} ---\n${this.stderrTail.join('\n')}`
  }

  private onLine (line: string): void {
    let message: { id?: number, ok?: boolean, result?: unknown, error?: { name: string, message: string }, event?: string }
    try {
      message = JSON.parse(line) as typeof message
    } catch {
      this.stderrTail.push(`(stdout) ${line}`)
      return
    }
    if (message.event !== undefined) {
      this.news.push(message as PeerNews)
      this.notify()
      return
    }
    const pending = message.id === undefined ? undefined : this.pending.get(message.id)
    if (pending === undefined || message.id === undefined) return
    this.pending.delete(message.id)
    if (message.ok === true) pending.resolve(message.result)
    else pending.reject(new Error(`${this.label}: ${message.error?.name ?? 'Error'}: ${message.error?.message ?? 'failed'}`))
  }

  private notify (): void {
    for (const check of [...this.waiters]) check()
  }

  private async guard<T> (promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const hang = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`${this.label}: no ${what} after ${HANG_GUARD_MS} ms\n${this.tail()}`)) }, HANG_GUARD_MS)
    })
    try {
      return await Promise.race([promise, hang])
    } finally {
      clearTimeout(timer)
    }
  }
}

/**
 * Polls `probe` until it returns a value other than undefined. For conditions spread over
 * several peers (convergence), where no single peer can announce the moment.
 */
export async function waitUntil<T> (probe: () => Promise<T | undefined>, what: string, peers: readonly PeerProcess[] = []): Promise<T> {
  const POLL_MS = 150
  const giveUpAt = Date.now() + HANG_GUARD_MS
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > giveUpAt) throw new Error(`still waiting for ${what} after ${HANG_GUARD_MS} ms\n${peers.map((peer) => peer.tail()).join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}
