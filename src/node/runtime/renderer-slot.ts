/**
 * The node's one renderer: starts a block's render, stops it on demand (lost lease,
 * halt, shutdown) and reports how it ended. At most one render runs at a time; the agent
 * never asks for a second, and a request for one is a bug that fails loudly.
 */
import type { BlockRef } from '../../protocol/scheduling.js'
import { renderBlock, type RenderOptions, type RenderResult } from '../../render/index.js'
import type { RenderTask } from '../../render/task.js'

export type RenderOutcome = Exclude<RenderResult, { kind: 'aborted' }>

interface Running {
  readonly target: BlockRef
  readonly controller: AbortController
  readonly done: Promise<void>
  progressPct: number | null
}

export class RendererSlot {
  private running: Running | null = null

  constructor (private readonly options: Omit<RenderOptions, 'signal' | 'onProgress'>) {}

  /** The block being rendered, with its progress, or null. */
  current (): { readonly target: BlockRef, readonly progressPct: number | null } | null {
    return this.running === null ? null : { target: this.running.target, progressPct: this.running.progressPct }
  }

  /** Starts rendering; `onEnd` hears a finish or a failure, never an abort we asked for. */
  start (target: BlockRef, task: RenderTask, onEnd: (outcome: RenderOutcome) => void): void {
    if (this.running !== null) throw new Error(`renderer busy with ${this.running.target.jobId}/${this.running.target.block}`)
    const controller = new AbortController()
    const running: Running = {
      target,
      controller,
      progressPct: null,
      done: renderBlock(task, {
        ...this.options,
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.kind === 'percent') running.progressPct = progress.percent
          if (progress.kind === 'frame') running.progressPct = (100 * progress.done) / progress.total
        }
      }).then((result) => {
        if (this.running === running) this.running = null
        if (result.kind !== 'aborted') onEnd(result)
      })
    }
    this.running = running
  }

  /** Stops the render of `target` (if it is the one running) and waits until its processes are gone. */
  async stop (reason: string): Promise<void> {
    const running = this.running
    if (running === null) return
    this.running = null
    running.controller.abort(new Error(reason))
    await running.done
  }

  /** Waits for the running render, if any, to end by itself. */
  async settled (): Promise<void> {
    await this.running?.done
  }
}
