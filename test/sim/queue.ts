/**
 * The virtual clock and its event queue: a min-heap of actions by (time, order of
 * scheduling), so equal times run in a fixed order and a run is a pure function of its seed.
 */

interface Scheduled {
  readonly atMs: number
  readonly order: number
  readonly run: () => void
}

export class EventQueue {
  private clock = 0
  private order = 0
  private readonly heap: Scheduled[] = []

  get nowMs (): number {
    return this.clock
  }

  /** Runs `run` at `atMs` (never earlier than now). */
  at (atMs: number, run: () => void): void {
    this.push({ atMs: Math.max(this.clock, Math.round(atMs)), order: this.order++, run })
  }

  after (delayMs: number, run: () => void): void {
    this.at(this.clock + delayMs, run)
  }

  /** Runs actions in order until `done`, the queue is empty, or the next one is past `endMs`. */
  runUntil (endMs: number, done: () => boolean = () => false): void {
    while (!done()) {
      const next = this.heap[0]
      if (next === undefined || next.atMs > endMs) break
      this.pop()
      this.clock = next.atMs
      next.run()
    }
  }

  private push (item: Scheduled): void {
    const heap = this.heap
    heap.push(item)
    let index = heap.length - 1
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (!before(item, heap[parent] as Scheduled)) break
      heap[index] = heap[parent] as Scheduled
      index = parent
    }
    heap[index] = item
  }

  private pop (): void {
    const heap = this.heap
    const last = heap.pop()
    if (last === undefined || heap.length === 0) return
    let index = 0
    for (;;) {
      const left = index * 2 + 1
      if (left >= heap.length) break
      const right = left + 1
      const child = right < heap.length && before(heap[right] as Scheduled, heap[left] as Scheduled) ? right : left
      if (!before(heap[child] as Scheduled, last)) break
      heap[index] = heap[child] as Scheduled
      index = child
    }
    heap[index] = last
  }
}

function before (a: Scheduled, b: Scheduled): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order)
}
