/**
 * Runs a plan's renderer processes one after another and reads their output through the
 * adapter's rules: frame done, progress, errors. It decides how the rendering ended — the
 * seed's Error Return — but not whether the frames are really there (contained render does).
 */
import { OUTPUT_TAIL_LINES } from '../protocol/vocabulary.js'
import { matchLine } from './adapters/rules.js'
import type { OutputRule, RenderPlan } from './adapters/types.js'
import { FrameTimer } from './frame-timer.js'
import { clipLine } from './output-lines.js'
import type { OutputTail } from './output-lines.js'
import { FATAL_REASONS } from './result.js'
import type { FailureReason, FrameTime, RenderProgress } from './result.js'
import { runProcess } from './runner.js'
import type { ProcessExit, RunnerOptions } from './runner.js'

export interface ExecuteRequest {
  readonly plan: RenderPlan
  readonly rules: readonly OutputRule[]
  readonly frames: readonly number[]
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  readonly memoryLimitMb: number
  readonly label: string
  /** The caller's: halt, lost lease, shutdown. */
  readonly signal: AbortSignal | undefined
  /** The block's time limit, with how it was reached (render-block.ts); none when undefined. */
  readonly timeLimit: { readonly ms: number; readonly text: string } | undefined
  readonly tail: OutputTail
  readonly onProgress: (progress: RenderProgress) => void
}

export type ExecuteOutcome =
  | { readonly kind: 'rendered'; readonly frames: readonly FrameTime[]; readonly renderMs: number; readonly warnings: readonly string[] }
  | { readonly kind: 'failed'; readonly reason: FailureReason; readonly message: string }
  | { readonly kind: 'aborted' }

/** Why this module stopped a renderer, besides the caller's abort. */
type StopCause = { readonly kind: 'caller' } | { readonly kind: 'timeout' } | { readonly kind: 'fatal'; readonly reason: FailureReason; readonly line: string }

const SPAWN_ERRORS_MEANING_MISSING = new Set(['ENOENT', 'EACCES', 'ENOEXEC', 'ENOTDIR'])

export async function executePlan(request: ExecuteRequest, runner: RunnerOptions): Promise<ExecuteOutcome> {
  const stop = new AbortController()
  let cause: StopCause | undefined
  const stopWith = (c: StopCause): void => {
    if (cause !== undefined) return
    cause = c
    stop.abort()
  }
  const onCallerAbort = (): void => { stopWith({ kind: 'caller' }) }
  if (request.signal?.aborted === true) return { kind: 'aborted' }
  request.signal?.addEventListener('abort', onCallerAbort, { once: true })
  const timeout = request.timeLimit === undefined ? undefined : setTimeout(() => { stopWith({ kind: 'timeout' }) }, request.timeLimit.ms)

  const timer = new FrameTimer(request.frames)
  const warnings: string[] = []
  let firstError: { reason: FailureReason; line: string } | undefined
  let lastPercent = -1
  const reportPercent = (fraction: number): void => {
    const percent = Math.floor(timer.percent(fraction))
    if (percent !== lastPercent) {
      lastPercent = percent
      request.onProgress({ kind: 'percent', percent })
    }
  }
  const reportFrame = (time: FrameTime | undefined): void => {
    if (time === undefined) return
    request.onProgress({ kind: 'frame', frame: time.frame, ms: time.ms, done: timer.doneCount, total: timer.total })
    reportPercent(0)
  }
  const onLine = (line: string): void => {
    request.tail.add(line)
    const event = matchLine(request.rules, line)
    switch (event?.kind) {
      case undefined:
        return
      case 'frame-done':
        reportFrame(timer.frameDone(performance.now(), event.frame, event.ms))
        return
      case 'frame-time':
        timer.amendLast(event.ms)
        return
      case 'frame-progress':
        reportPercent(event.fraction)
        return
      case 'warning':
        if (warnings.length < OUTPUT_TAIL_LINES) warnings.push(clipLine(line))
        return
      case 'error':
        // A fatal line ends the render at once: Blender, say, would go on rendering its default scene.
        if (FATAL_REASONS.has(event.reason)) stopWith({ kind: 'fatal', reason: event.reason, line: clipLine(line) })
        else firstError ??= { reason: event.reason, line: clipLine(line) }
    }
  }

  let renderMs = 0
  try {
    for (const invocation of request.plan.invocations) {
      if (stop.signal.aborted) break
      const started = performance.now()
      timer.begin(invocation.frames, started)
      const exit = await runProcess({
        file: invocation.file,
        args: invocation.args,
        cwd: request.cwd,
        env: { ...request.env, ...invocation.env },
        memoryLimitMb: request.memoryLimitMb,
        label: request.label,
        signal: stop.signal,
        onLine,
        onSpawn: (pid) => { request.onProgress({ kind: 'started', pid, command: [invocation.file, ...invocation.args] }) }
      }, runner)
      renderMs += performance.now() - started
      const failure = judgeExit(exit, cause, firstError, request.memoryLimitMb, request.timeLimit?.text, invocation.file)
      if (failure !== undefined) return failure
      for (const time of timer.end(performance.now())) reportFrame(time)
    }
    if (cause?.kind === 'caller') return { kind: 'aborted' }
    return { kind: 'rendered', frames: timer.results(), renderMs: Math.round(renderMs), warnings }
  } finally {
    clearTimeout(timeout)
    request.signal?.removeEventListener('abort', onCallerAbort)
  }
}

/** How one process ended, as an outcome when it ended the block. Order matters: the most specific cause first. */
function judgeExit(
  exit: ProcessExit,
  cause: StopCause | undefined,
  firstError: { reason: FailureReason; line: string } | undefined,
  memoryLimitMb: number,
  timeLimit: string | undefined,
  file: string
): ExecuteOutcome | undefined {
  if (exit.kind === 'spawn-failed') {
    return SPAWN_ERRORS_MEANING_MISSING.has(exit.code)
      ? { kind: 'failed', reason: 'executable-missing', message: `cannot start ${file}: ${exit.message}` }
      : { kind: 'failed', reason: 'crash', message: `cannot start ${file}: ${exit.message}` }
  }
  switch (cause?.kind) {
    case 'caller':
      return { kind: 'aborted' }
    case 'fatal':
      return { kind: 'failed', reason: cause.reason, message: cause.line }
    case 'timeout':
      return { kind: 'failed', reason: 'timeout', message: `render timeout: the block ran past its limit of ${timeLimit ?? '?'} and was stopped` }
    case undefined:
      break
  }
  if (exit.memoryExceeded) return { kind: 'failed', reason: 'memory-limit', message: `memory limit ${memoryLimitMb} MB exceeded` }
  const status = exit.signal === undefined ? `exit code ${exit.exitCode ?? '?'}` : `signal ${exit.signal}`
  if (firstError !== undefined) return { kind: 'failed', reason: firstError.reason, message: `${firstError.line} (${status})` }
  if (exit.signal !== undefined) return { kind: 'failed', reason: 'crash', message: `renderer killed by ${exit.signal}` }
  if (exit.exitCode !== 0) return { kind: 'failed', reason: 'exit-code', message: `renderer exited with ${status}` }
  return undefined
}
