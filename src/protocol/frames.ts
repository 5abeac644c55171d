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
