/**
 * Per-frame render times for Average Render Time. A renderer that prints a frame's time is
 * believed; otherwise a frame took the time since the previous frame finished (or its
 * process started); frames a process never reported share what remains of its run.
 */
import type { FrameTime } from './result.js'

export class FrameTimer {
  private readonly times = new Map<number, number>()
  private readonly expected: ReadonlySet<number>
  private current: readonly number[] = []
  private lastMark = 0
  private lastFrame: number | undefined

  constructor(frames: readonly number[]) {
    this.expected = new Set(frames)
  }

  get doneCount(): number {
    return this.times.size
  }

  get total(): number {
    return this.expected.size
  }

  /** A process for these frames starts now. */
  begin(frames: readonly number[], nowMs: number): void {
    this.current = frames
    this.lastMark = nowMs
  }

  /**
   * A frame is done: the one named, or else the first of the current process's frames not
   * yet done. Returns its time if it is newly done (a frame reported twice, by two render
   * elements say, counts once), or undefined.
   */
  frameDone(nowMs: number, frame?: number, ms?: number): FrameTime | undefined {
    const f = frame ?? this.current.find((c) => !this.times.has(c))
    if (f === undefined || !this.expected.has(f) || this.times.has(f)) return undefined
    const time = Math.round(ms ?? Math.max(0, nowMs - this.lastMark))
    this.lastMark = nowMs
    this.times.set(f, time)
    this.lastFrame = f
    return { frame: f, ms: time }
  }

  /** The renderer printed the time of the frame it just reported done. */
  amendLast(ms: number): void {
    if (this.lastFrame !== undefined) this.times.set(this.lastFrame, ms)
  }

  /** The current process ended well: its unreported frames share the time since the last report. */
  end(nowMs: number): FrameTime[] {
    const rest = this.current.filter((f) => !this.times.has(f))
    const share = rest.length === 0 ? 0 : Math.round(Math.max(0, nowMs - this.lastMark) / rest.length)
    for (const f of rest) this.times.set(f, share)
    this.current = []
    return rest.map((frame) => ({ frame, ms: share }))
  }

  /** Percent of the block: frames done plus the current frame's fraction. */
  percent(fraction: number): number {
    return Math.min(100, ((this.times.size + Math.min(1, Math.max(0, fraction))) / Math.max(1, this.expected.size)) * 100)
  }

  results(): FrameTime[] {
    return [...this.times].map(([frame, ms]) => ({ frame, ms })).sort((a, b) => a.frame - b.frame)
  }
}
