/**
 * A job's frame range cut into blocks of `blockSize` frames: block i covers
 * frameStart + i*blockSize onward; the last block may be shorter.
 */

export interface FrameRange {
  readonly start: number
  readonly end: number
}

interface Partitioned {
  readonly frameStart: number
  readonly frameEnd: number
  readonly blockSize: number
}

export function frameCount (job: Partitioned): number {
  return job.frameEnd - job.frameStart + 1
}

export function blockCount (job: Partitioned): number {
  return Math.ceil(frameCount(job) / job.blockSize)
}

/** The frames of block `index`; undefined when the job has no such block. */
export function blockFrames (job: Partitioned, index: number): FrameRange | undefined {
  if (!Number.isInteger(index) || index < 0 || index >= blockCount(job)) return undefined
  const start = job.frameStart + index * job.blockSize
  return { start, end: Math.min(job.frameEnd, start + job.blockSize - 1) }
}

/**
 * Each frame's render time in the block's frame order, as a finish event carries them:
 * one per frame of `range`. Frames the renderer did not time share what is left of the
 * block's wall time, so the per-frame average stays true. Times are capped to what the
 * event can carry.
 */
export function frameTimesInOrder (range: FrameRange, timed: readonly { readonly frame: number, readonly ms: number }[], wallMs: number, maxMs: number): number[] {
  const byFrame = new Map(timed.map(({ frame, ms }) => [frame, ms]))
  const count = range.end - range.start + 1
  let timedMs = 0
  let untimed = 0
  for (let frame = range.start; frame <= range.end; frame++) {
    const ms = byFrame.get(frame)
    if (ms === undefined) untimed++
    else timedMs += ms
  }
  const share = untimed === 0 ? 0 : Math.max(0, Math.round((wallMs - timedMs) / untimed))
  return Array.from({ length: count }, (_, offset) => Math.min(maxMs, Math.max(0, Math.round(byFrame.get(range.start + offset) ?? share))))
}
