/**
 * Runs one renderer process (execa): streams its stdout and stderr line by line, holds it to
 * a memory limit (a cgroup where the host allows, else the watchdog), and kills its whole
 * process tree when the caller's AbortSignal fires (halt, timeout, lost lease, a fatal
 * line), gently first (SIGTERM lets a renderer release its license), then for good.
 * The renderer's group must not outlive the node either: on Linux a guardian kills it
 * when the node dies and stops it while the node is stopped (guardian.ts), and on every
 * POSIX system it is recorded on disk for the next start's sweep (render-groups.ts).
 */
import { execa } from 'execa'
import { CgroupUnavailableError, findCgroupHost, MemoryCgroup } from './limits/cgroup.js'
import { startMemoryWatchdog } from './limits/watchdog.js'
import type { Watchdog } from './limits/watchdog.js'
import { startGuardian } from './guardian.js'
import type { Guardian } from './guardian.js'
import { SILENT_LOGGER } from './logger.js'
import type { RenderLogger } from './logger.js'
import { LineSplitter } from './output-lines.js'
import { killGroupOnExit, processTableFor, signalTree } from './process-tree.js'
import type { ProcessTable } from './process-tree.js'
import { recordRenderGroup } from './render-groups.js'

export const DEFAULT_KILL_GRACE_MS = 10_000
export const DEFAULT_WATCHDOG_INTERVAL_MS = 500

export interface ProcessRequest {
  readonly file: string
  readonly args: readonly string[]
  readonly cwd: string
  /** Variables on top of this process's environment. */
  readonly env: Readonly<Record<string, string>>
  /** -1 for none. */
  readonly memoryLimitMb: number
  /** Names the render's cgroup, for a person reading /sys/fs/cgroup. */
  readonly label: string
  /** Aborting stops the process tree; the reason is the caller's business. */
  readonly signal: AbortSignal
  readonly onLine: (line: string) => void
  readonly onSpawn: (pid: number) => void
}

export interface RunnerOptions {
  /** From SIGTERM to SIGKILL when stopping a render. */
  readonly killGraceMs?: number
  readonly watchdogIntervalMs?: number
  /** `auto` tries a cgroup first; `watchdog` never does. */
  readonly memoryEnforcement?: 'auto' | 'watchdog'
  /** A cgroup folder to make render cgroups in (a delegated systemd slice); this process's own by default. */
  readonly cgroupParent?: string
  /** Where running render groups are recorded for the sweep at the next start (render-groups.ts); renderBlock() sets the node's own. None when absent. */
  readonly renderGroupsDir?: string
  readonly logger?: RenderLogger
}

export type ProcessExit =
  | { readonly kind: 'spawn-failed'; readonly code: string; readonly message: string }
  | {
      readonly kind: 'exited'
      readonly exitCode: number | undefined
      readonly signal: string | undefined
      /** The tree passed its memory limit (watchdog) or the kernel OOM-killed it in its cgroup. */
      readonly memoryExceeded: boolean
    }

type MemoryGuard =
  | { readonly kind: 'none' }
  | { readonly kind: 'cgroup'; readonly cgroup: MemoryCgroup }
  | { readonly kind: 'watchdog'; readonly table: ProcessTable; readonly limitMb: number }

async function memoryGuard(request: ProcessRequest, options: RunnerOptions, logger: RenderLogger): Promise<MemoryGuard> {
  if (request.memoryLimitMb <= 0) return { kind: 'none' }
  if (options.memoryEnforcement !== 'watchdog') {
    try {
      const host = await findCgroupHost(options.cgroupParent)
      return { kind: 'cgroup', cgroup: await MemoryCgroup.create(host, request.label, request.memoryLimitMb) }
    } catch (err) {
      if (!(err instanceof CgroupUnavailableError)) throw err
      logger.debug('no memory cgroup; the watchdog enforces the limit', { reason: err.message })
    }
  }
  const table = processTableFor(process.platform)
  if (table === undefined) {
    logger.warn('memory limit not enforced: no way to read process memory on this platform', { limitMb: request.memoryLimitMb })
    return { kind: 'none' }
  }
  return { kind: 'watchdog', table, limitMb: request.memoryLimitMb }
}

/** Runs the process to its end and reports how it ended. Never rejects for the renderer's own failures. */
export async function runProcess(request: ProcessRequest, options: RunnerOptions = {}): Promise<ProcessExit> {
  const logger = options.logger ?? SILENT_LOGGER
  const guard = await memoryGuard(request, options, logger)
  try {
    return await spawnAndWait(request, options, guard, logger)
  } finally {
    if (guard.kind === 'cgroup') await guard.cgroup.dispose()
  }
}

async function spawnAndWait(request: ProcessRequest, options: RunnerOptions, guard: MemoryGuard, logger: RenderLogger): Promise<ProcessExit> {
  const table = processTableFor(process.platform)
  const command = guard.kind === 'cgroup' ? guard.cgroup.wrap(request.file, request.args) : { file: request.file, args: [...request.args] }
  const subprocess = execa(command.file, command.args, {
    cwd: request.cwd,
    env: request.env,
    extendEnv: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    // Its own process group, so the whole tree can be signalled at once (POSIX only).
    detached: process.platform !== 'win32',
    windowsHide: true,
    // We kill the tree ourselves; execa would kill the leader only.
    cleanup: false,
    forceKillAfterDelay: false
  })
  const stdout = new LineSplitter(request.onLine)
  const stderr = new LineSplitter(request.onLine)
  subprocess.stdout.on('data', (chunk: Buffer) => { stdout.push(chunk) })
  subprocess.stderr.on('data', (chunk: Buffer) => { stderr.push(chunk) })

  const pid = subprocess.pid
  // Set from a callback; an object so the compiler does not narrow it to its first value.
  const state = { memoryExceeded: false }
  let forceKill: NodeJS.Timeout | undefined
  let watchdog: Watchdog | undefined
  const logKillError = (err: unknown): void => { logger.warn('cannot signal the render process tree', { pid, error: String(err) }) }
  const stopTree = (signal: NodeJS.Signals): void => {
    if (pid === undefined) return
    void signalTree(pid, signal, table).catch(logKillError)
    if (signal === 'SIGTERM') forceKill ??= setTimeout(() => { void signalTree(pid, 'SIGKILL', table).catch(logKillError) }, options.killGraceMs ?? DEFAULT_KILL_GRACE_MS)
  }
  const onAbort = (): void => { stopTree('SIGTERM') }
  let forgetGroup: (() => void) | undefined
  let guardian: Guardian | undefined
  let unrecord: (() => Promise<void>) | undefined

  if (pid !== undefined) {
    request.onSpawn(pid)
    if (process.platform !== 'win32') forgetGroup = killGroupOnExit(pid)
    const cgroupDir = guard.kind === 'cgroup' ? guard.cgroup.dir : undefined
    if (process.platform === 'linux') guardian = await startGuardian({ group: pid, cgroupDir, logger })
    if (options.renderGroupsDir !== undefined && process.platform !== 'win32') {
      try {
        unrecord = await recordRenderGroup(options.renderGroupsDir, pid, { label: request.label, cgroupDir })
      } catch (err) {
        // The record is a backstop for a crash; a render is not worth failing for want of it.
        logger.warn('cannot record the render for the sweep at the next start', { pid, dir: options.renderGroupsDir, error: String(err) })
      }
    }
    if (request.signal.aborted) onAbort()
    else request.signal.addEventListener('abort', onAbort, { once: true })
    if (guard.kind === 'watchdog') {
      watchdog = startMemoryWatchdog({
        rootPid: pid,
        limitMb: guard.limitMb,
        table: guard.table,
        intervalMs: options.watchdogIntervalMs ?? DEFAULT_WATCHDOG_INTERVAL_MS,
        // Past its limit a render may take the machine down with it: no grace.
        onExceeded: () => {
          state.memoryExceeded = true
          stopTree('SIGKILL')
        },
        onError: (err) => { logger.warn('memory watchdog cannot read the process table', { pid, error: String(err) }) }
      })
    }
    // Helpers still in the tree when the leader exits would hold the output pipes open.
    subprocess.nodeChildProcess.once('exit', () => { stopTree('SIGKILL') })
  }

  try {
    const result = await subprocess
    stdout.end()
    stderr.end()
    if (pid === undefined || (result.exitCode === undefined && result.signal === undefined)) {
      return { kind: 'spawn-failed', code: result.code ?? 'ESPAWN', message: result.originalMessage ?? result.message ?? 'the renderer could not be started' }
    }
    const memoryExceeded = state.memoryExceeded || (guard.kind === 'cgroup' && await guard.cgroup.oomKilled())
    return { kind: 'exited', exitCode: result.exitCode, signal: result.signal, memoryExceeded }
  } finally {
    watchdog?.stop()
    clearTimeout(forceKill)
    request.signal.removeEventListener('abort', onAbort)
    forgetGroup?.()
    guardian?.stop()
    await unrecord?.()
  }
}
