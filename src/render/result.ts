/**
 * What renderBlock() reports: the block finished (with per-frame times for Average Render
 * Time), failed (fatal or retryable, with a typed reason and the output tail for the log
 * report: the seed's Error Return), or was aborted by its caller (halt, lost lease, stop).
 */
import type { FailureKind } from '../protocol/vocabulary.js'

/** Why a block failed. FATAL_REASONS disable the job; the rest are retried elsewhere. */
export const FAILURE_REASONS = [
  'scene-missing',
  'scene-unreadable',
  'license',
  'usage',
  'unknown-renderer',
  'executable-missing',
  'crash',
  'out-of-memory',
  'memory-limit',
  'timeout',
  'exit-code',
  'renderer-error',
  'missing-frames',
  'disk-full',
  'target-permission',
  'io-error',
  /** Not the renderer's nor the job's fault: the node's own code threw (the node retries the block, see renderer-slot.ts). */
  'internal-error'
] as const
export type FailureReason = (typeof FAILURE_REASONS)[number]

/**
 * Failures no other node or later attempt can fix: the job itself is wrong (seed: "error
 * fatal enough to fail the render process"). A missing executable is not here: another
 * node may have the renderer.
 */
export const FATAL_REASONS: ReadonlySet<FailureReason> = new Set<FailureReason>([
  'scene-missing',
  'scene-unreadable',
  'license',
  'usage',
  'unknown-renderer'
])

export function failureKindOf(reason: FailureReason): FailureKind {
  return FATAL_REASONS.has(reason) ? 'fatal' : 'retryable'
}

export interface FrameTime {
  readonly frame: number
  readonly ms: number
}

export interface RenderFinished {
  readonly kind: 'finished'
  readonly frames: readonly FrameTime[]
  /** From "start block" to the last frame moved into the target. */
  readonly wallMs: number
  /** The renderer processes alone: the seed's render time, for Average Render Time. */
  readonly renderMs: number
  /** Absolute paths of every output at the target, whoever put it there. */
  readonly outputs: readonly string[]
  /** Outputs already at the target, left as they were: an earlier attempt of the block delivered them. */
  readonly kept: readonly string[]
  /** Outputs already at the target that this re-render, asked for, replaced. */
  readonly replaced: readonly string[]
  /** Error lines the renderer printed without failing (Maya's `// Error:` on a texture, say). */
  readonly warnings: readonly string[]
  readonly outputTail: readonly string[]
}

export interface RenderFailed {
  readonly kind: 'failed'
  readonly failure: FailureKind
  readonly reason: FailureReason
  readonly message: string
  readonly wallMs: number
  readonly outputTail: readonly string[]
}

export interface RenderAborted {
  readonly kind: 'aborted'
  /** The caller's abort reason, as text. */
  readonly message: string
  readonly wallMs: number
  readonly outputTail: readonly string[]
}

export type RenderResult = RenderFinished | RenderFailed | RenderAborted

/** Live progress, never logged: the node forwards it as ephemeral traffic. */
export type RenderProgress =
  | { readonly kind: 'started'; readonly pid: number; readonly command: readonly string[] }
  | { readonly kind: 'frame'; readonly frame: number; readonly ms: number; readonly done: number; readonly total: number }
  | { readonly kind: 'percent'; readonly percent: number }
  | { readonly kind: 'phase'; readonly phase: 'rendering' | 'copying' }
