/**
 * The node's one renderer: starts a block's render, stops it on demand (lost lease,
 * halt, shutdown) and reports how it ended. At most one render runs at a time; the agent
 * never asks for a second, and a request for one is a bug that fails loudly.
 *
 * Whatever goes wrong inside a render ends as an outcome, never as an error loose in the
 * process: renderBlock reports the renderer's and the job's failures itself, and anything
 * it throws (a bug, a folder removed under it, a cgroup that will not go) fails the block
 * as retryable `internal-error`, as does an error nobody handled anywhere in the process
 * while the block renders (process-guard.ts). The node lives on and takes the next block.
 */
import type { BlockRef } from '../../protocol/scheduling.js'
import { failureKindOf, renderBlock, type RenderFailed, type RenderOptions, type RenderResult } from '../../render/index.js'
import type { RenderTask } from '../../render/task.js'
import type { Logger } from '../log.js'
import { processFaults, summarize, type FaultSource } from './process-guard.js'

export type RenderOutcome = Exclude<RenderResult, { kind: 'aborted' }>

/** What the slot runs a block with: renderBlock, or a stand-in in tests. */
export type RenderFunction = (task: RenderTask, options: RenderOptions) => Promise<RenderResult>

export type RendererSlotOptions = Omit<RenderOptions, 'signal' | 'onProgress' | 'logger'> & {
  readonly logger: Logger
  readonly render?: RenderFunction
  /** Where process-level faults come from; the process guard's by default. */
  readonly faults?: FaultSource
}

interface Running {
  readonly target: BlockRef
  readonly controller: AbortController
  readonly done: Promise<void>
  progressPct: number | null
  /** Set when the slot itself stopped the render for a fault: the abort is then reported as this failure. */
  fault: string | null
}

function blockName (target: BlockRef): string {
  return `${target.jobId}/${target.block}@${target.epoch}`
}

export class RendererSlot {
  private running: Running | null = null
  private readonly render: RenderFunction
  private readonly faults: FaultSource

  constructor (private readonly options: RendererSlotOptions) {
    this.render = options.render ?? renderBlock
    this.faults = options.faults ?? processFaults
  }

  /** The block being rendered, with its progress, or null. */
  current (): { readonly target: BlockRef, readonly progressPct: number | null } | null {
    return this.running === null ? null : { target: this.running.target, progressPct: this.running.progressPct }
  }

  /** Starts rendering; `onEnd` hears a finish or a failure, never an abort we asked for. */
  start (target: BlockRef, task: RenderTask, onEnd: (outcome: RenderOutcome) => void): void {
    if (this.running !== null) throw new Error(`renderer busy with ${this.running.target.jobId}/${this.running.target.block}`)
    const { logger } = this.options
    const controller = new AbortController()
    const startedMs = performance.now()
    const internalError = (message: string): RenderFailed => ({
      kind: 'failed', failure: failureKindOf('internal-error'), reason: 'internal-error', message, wallMs: Math.round(performance.now() - startedMs), outputTail: []
    })
    const stopListening = this.faults.onFault((fault) => {
      if (this.running !== running || running.fault !== null) return
      running.fault = `stopped by an error nobody handled in the node (${fault.origin}): ${fault.summary}`
      logger.error('failing the running block after an unhandled error', { block: blockName(target), origin: fault.origin })
      controller.abort(new Error(running.fault))
    })
    const rendering = async (): Promise<RenderResult> => {
      try {
        return await this.render(task, {
          ...this.options,
          signal: controller.signal,
          onProgress: (progress) => {
            if (progress.kind === 'percent') running.progressPct = progress.percent
            if (progress.kind === 'frame') running.progressPct = (100 * progress.done) / progress.total
          }
        })
      } catch (error) {
        logger.error('render failed with an internal error', { block: blockName(target), error })
        return internalError(`internal error while rendering block ${target.block}: ${summarize(error)}`)
      }
    }
    const running: Running = {
      target,
      controller,
      progressPct: null,
      fault: null,
      done: rendering().then((result) => {
        stopListening()
        if (this.running === running) this.running = null
        if (result.kind !== 'aborted') onEnd(result)
        else if (running.fault !== null) onEnd(internalError(running.fault))
      }).catch((error: unknown) => {
        // Only `onEnd` can throw here: its caller's bug, logged, so that `stop` and `settled` still return.
        logger.error('the outcome of a render was not taken in', { block: blockName(target), error })
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
