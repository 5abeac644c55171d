/**
 * The process table as tests need it (Linux /proc): a node's renderer processes (its
 * descendants, whatever their process group), and how long they take to be gone, so a test
 * measures "stops at once" instead of waiting for a log line that says so.
 */
import { readdir, readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { isAlive } from '../fixtures/render/helpers.js'

const POLL_MS = 20

/** Each live process's parent, from /proc/<pid>/stat. */
async function parents (): Promise<Map<number, number>> {
  const parentOf = new Map<number, number>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'latin1')
    } catch (error) {
      // It exited between the listing and the read.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') continue
      throw error
    }
    // Fields after the command name (which may hold spaces): state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    parentOf.set(Number(entry), ppid)
  }
  return parentOf
}

/** Every live process below `pid` (children, theirs, ...), zombies left out. */
export async function descendantsOf (pid: number): Promise<number[]> {
  const parentOf = await parents()
  const found: number[] = []
  let frontier = [pid]
  while (frontier.length > 0) {
    const next = [...parentOf].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child)
    found.push(...next)
    frontier = next
  }
  const alive = await Promise.all(found.map(async (child) => (await isAlive(child)) ? child : undefined))
  return alive.filter((child) => child !== undefined)
}

/** Milliseconds until none of `pids` is alive; rejects after `guardMs` naming the survivors. */
export async function msUntilGone (pids: readonly number[], guardMs: number): Promise<number> {
  const started = performance.now()
  for (;;) {
    const alive = []
    for (const pid of pids) if (await isAlive(pid)) alive.push(pid)
    const elapsed = performance.now() - started
    if (alive.length === 0) return elapsed
    if (elapsed > guardMs) throw new Error(`processes ${alive.join(', ')} still alive after ${guardMs} ms`)
    await sleep(POLL_MS)
  }
}
