/**
 * The contract every renderer adapter implements: turn a task into the command lines that
 * render its frames into a given folder, and say what the renderer's output lines mean.
 * Adapters are pure: no I/O, no clock, so their command lines can be tested as golden text.
 */
import type { Software } from '../../protocol/vocabulary.js'
import type { FailureReason } from '../result.js'
import type { Program, RenderTask } from '../task.js'

/** One renderer process to start. */
export interface Invocation {
  readonly file: string
  readonly args: readonly string[]
  /** Extra environment on top of the node's and the contained render's. */
  readonly env?: Readonly<Record<string, string>>
  /** The frames this process renders, in order. */
  readonly frames: readonly number[]
}

/** A file the adapter needs beside the render (Nuke's init.py); written into the support folder first. */
export interface SupportFile {
  readonly name: string
  readonly content: string
}

export interface RenderPlan {
  readonly invocations: readonly Invocation[]
  /** Input files that must exist before rendering; missing ones fail the job as fatal. */
  readonly scenes: readonly string[]
  readonly supportFiles: readonly SupportFile[]
}

/** Where the plan runs: resolved executable, folders and the platform's path flavour. */
export interface PlanContext {
  /** The resolved executable of the adapter's program (unused by `command`). */
  readonly executable: string
  readonly outputDir: string
  readonly supportDir: string
  readonly frames: readonly number[]
  readonly platform: NodeJS.Platform
  /** The environment the renderer inherits, for variables an adapter extends (NUKE_PATH). */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** What one output line says; adapters map their renderer's phrases to these. */
export type LineEvent =
  /** A frame is written. `frame` when the line names it, otherwise the next frame in order. */
  | { readonly kind: 'frame-done'; readonly frame?: number; readonly ms?: number }
  /** The render time of the frame just reported done (Blender prints it after "Saved:"). */
  | { readonly kind: 'frame-time'; readonly ms: number }
  /** Progress within the current frame, 0..1. */
  | { readonly kind: 'frame-progress'; readonly fraction: number }
  /** A failure. Fatal reasons stop the renderer at once; others fail the block after it exits. */
  | { readonly kind: 'error'; readonly reason: FailureReason }
  /** An error the renderer survives; kept in the result's warnings. */
  | { readonly kind: 'warning' }

export interface OutputRule {
  readonly pattern: RegExp
  readonly event: (match: RegExpExecArray) => LineEvent
}

export interface RendererAdapter {
  readonly software: Software
  /** The program to discover; undefined when the task carries its own (a command template). */
  readonly program: Program | undefined
  plan(task: RenderTask, context: PlanContext): RenderPlan
  /** Checked in order; the first match wins. */
  readonly rules: readonly OutputRule[]
}
