/**
 * The memory limit where no cgroup can be had: sample the resident memory of the renderer's
 * whole process tree and call onExceeded once when it passes the limit (the runner then
 * kills the tree and reports "memory limit N MB exceeded").
 */
import { treeOf } from '../process-tree.js'
import type { ProcessTable } from '../process-tree.js'

export interface WatchdogOptions {
  readonly rootPid: number
  readonly limitMb: number
  readonly table: ProcessTable
  readonly intervalMs: number
  readonly onExceeded: (residentMb: number) => void
  /** A sample failed (the table could not be read); watching goes on. */
  readonly onError: (err: unknown) => void
}

export interface Watchdog {
  stop(): void
}

export function startMemoryWatchdog(options: WatchdogOptions): Watchdog {
  let sampling = false
  let stopped = false
  const sample = async (): Promise<void> => {
    const tree = treeOf(await options.table.list(), options.rootPid)
    const residentMb = tree.reduce((sum, p) => sum + p.rssKb, 0) / 1024
    if (!stopped && residentMb > options.limitMb) {
      stop()
      options.onExceeded(residentMb)
    }
  }
  const timer = setInterval(() => {
    // A slow sample (a busy /proc) must not pile up behind itself.
    if (sampling) return
    sampling = true
    sample().catch(options.onError).finally(() => {
      sampling = false
    })
  }, options.intervalMs)
  const stop = (): void => {
    stopped = true
    clearInterval(timer)
  }
  return { stop }
}
