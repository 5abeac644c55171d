/**
 * A renderer's process tree: listing it (for the memory watchdog) and killing all of it (on
 * halt, timeout, lost lease or a fatal line). Renderers fork helpers, and a helper that
 * outlives its parent would keep rendering, holding licenses and scratch files.
 *
 * The renderer is started as the leader of its own process group, so the group holds the
 * whole tree unless a helper calls setsid; those are found by walking parent ids.
 */
import { open, readdir, readFile } from 'node:fs/promises'
import { execa } from 'execa'

export interface ProcessInfo {
  readonly pid: number
  readonly ppid: number
  readonly pgid: number
  readonly rssKb: number
}

export interface ProcessTable {
  list(): Promise<ProcessInfo[]>
}

/** The kernel's page size, from the first mapping of /proc/self/smaps (read once). */
async function pageSizeKb(procRoot: string): Promise<number> {
  const file = await open(`${procRoot}/self/smaps`)
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4096), 0, 4096, 0)
    const match = /KernelPageSize:\s+(\d+) kB/.exec(buffer.subarray(0, bytesRead).toString('latin1'))
    return match?.[1] === undefined ? 4 : Number(match[1])
  } finally {
    await file.close()
  }
}

/** Fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parens. */
export function parseProcStat(text: string, pageKb: number): ProcessInfo | undefined {
  const close = text.lastIndexOf(')')
  if (close < 0) return undefined
  const fields = text.slice(close + 2).split(' ')
  const pid = Number.parseInt(text, 10)
  const [ppid, pgid, rssPages] = [fields[1], fields[2], fields[21]].map(Number)
  if (ppid === undefined || pgid === undefined || rssPages === undefined || [pid, ppid, pgid, rssPages].some(Number.isNaN)) return undefined
  return { pid, ppid, pgid, rssKb: rssPages * pageKb }
}

let bootId: Promise<string> | undefined

/**
 * When `pid` started, as the OS tells it, or undefined when there is no such process:
 * with the pid it names one process for good, though pids are reused. Linux: the boot id
 * and the start tick from /proc; elsewhere ps's start time, to the second. Not on Windows.
 */
export async function processStartOf(pid: number, platform: NodeJS.Platform = process.platform): Promise<string | undefined> {
  if (platform === 'win32') throw new Error('process start times are not read on Windows')
  if (platform !== 'linux') {
    const { exitCode, stdout } = await execa('ps', ['-o', 'lstart=', '-p', String(pid)], { reject: false })
    return exitCode === 0 && stdout.trim() !== '' ? stdout.trim() : undefined
  }
  bootId ??= readFile('/proc/sys/kernel/random/boot_id', 'latin1').then((text) => text.trim())
  let stat: string
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'latin1')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined
    throw err
  }
  const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  return `${await bootId}/${startTicks ?? '?'}`
}

/** Linux: /proc. */
export function procTable(procRoot = '/proc'): ProcessTable {
  let pageKb: Promise<number> | undefined
  return {
    async list() {
      pageKb ??= pageSizeKb(procRoot)
      const page = await pageKb
      const pids = (await readdir(procRoot)).filter((name) => /^\d+$/.test(name))
      const infos = await Promise.all(pids.map(async (pid) => {
        try {
          return parseProcStat(await readFile(`${procRoot}/${pid}/stat`, 'latin1'), page)
        } catch (err) {
          // The process exited between readdir and read.
          if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined
          throw err
        }
      }))
      return infos.filter((i) => i !== undefined)
    }
  }
}

/** macOS and the BSDs: ps. */
export function psTable(): ProcessTable {
  return {
    async list() {
      const { stdout } = await execa('ps', ['-A', '-o', 'pid=,ppid=,pgid=,rss='])
      return stdout.split('\n').flatMap((line) => {
        const [pid, ppid, pgid, rssKb] = line.trim().split(/\s+/).map(Number)
        return pid === undefined || ppid === undefined || pgid === undefined || rssKb === undefined || Number.isNaN(rssKb) ? [] : [{ pid, ppid, pgid, rssKb }]
      })
    }
  }
}

/** The table for this OS, or undefined on Windows (where taskkill /T walks the tree itself). */
export function processTableFor(platform: NodeJS.Platform): ProcessTable | undefined {
  if (platform === 'linux') return procTable()
  if (platform === 'win32') return undefined
  return psTable()
}

/** The root, its descendants and the members of its process group. */
export function treeOf(processes: readonly ProcessInfo[], rootPid: number): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>()
  for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p])
  const inTree = new Map<number, ProcessInfo>()
  const queue = processes.filter((p) => p.pid === rootPid || p.pgid === rootPid)
  while (queue.length > 0) {
    const p = queue.pop() as ProcessInfo
    if (inTree.has(p.pid)) continue
    inTree.set(p.pid, p)
    queue.push(...(children.get(p.pid) ?? []))
  }
  return [...inTree.values()]
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch (err) {
    // Already gone: exactly what we wanted.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

/**
 * Signals the whole tree of `rootPid`: its process group, and every descendant found in the
 * table (which catches helpers that left the group). On Windows, taskkill /T /F.
 */
export async function signalTree(rootPid: number, signal: NodeJS.Signals, table: ProcessTable | undefined): Promise<void> {
  if (process.platform === 'win32') {
    await execa('taskkill', ['/PID', String(rootPid), '/T', '/F'], { reject: false })
    return
  }
  const members = table === undefined ? [] : treeOf(await table.list(), rootPid)
  signalQuietly(-rootPid, signal)
  for (const member of members) signalQuietly(member.pid, signal)
}

/** Process groups of renders still running, killed if this process exits under them. */
const liveGroups = new Set<number>()
let exitHookInstalled = false

/**
 * Makes sure the process group of `pid` dies if this process exits first (renders must not
 * run on unowned); call the returned function once the render has ended. POSIX only.
 */
export function killGroupOnExit(pid: number): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.on('exit', () => {
      for (const group of liveGroups) {
        try {
          process.kill(-group, 'SIGKILL')
        } catch {
          // Exiting anyway: a group already gone is fine, and nothing else can be done.
        }
      }
    })
  }
  liveGroups.add(pid)
  return () => { liveGroups.delete(pid) }
}
