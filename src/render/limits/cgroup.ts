/**
 * Memory limits through the kernel: a memory cgroup per render, v2 (`memory.max`) or v1
 * (`memory.limit_in_bytes`), made as a child of this process's own cgroup (or of a folder the
 * node is configured with, such as a delegated systemd slice). The renderer joins it before
 * it starts (a tiny sh wrapper writes its pid, then execs), so every process it forks is
 * counted and the kernel's OOM killer enforces the limit.
 */
import { randomBytes } from 'node:crypto'
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface CgroupHost {
  readonly version: 1 | 2
  /** The folder new render cgroups are made in. */
  readonly parentDir: string
}

/** Why no cgroup could be had; the caller falls back to the watchdog and logs this. */
export class CgroupUnavailableError extends Error {
  override readonly name = 'CgroupUnavailableError'
}

const BYTES_PER_MB = 1024 * 1024
const RMDIR_ATTEMPTS = 20
const RMDIR_RETRY_MS = 50

interface Mount {
  readonly root: string
  readonly mountPoint: string
  readonly fsType: string
  readonly superOptions: readonly string[]
}

function parseMountinfo(text: string): Mount[] {
  return text.split('\n').flatMap((line) => {
    const [left, right] = line.split(' - ')
    const fields = left?.split(' ') ?? []
    const [fsType, , superOptions] = right?.split(' ') ?? []
    const root = fields[3]
    const mountPoint = fields[4]
    if (root === undefined || mountPoint === undefined || fsType === undefined) return []
    return [{ root, mountPoint: unescapeMount(mountPoint), fsType, superOptions: (superOptions ?? '').split(',') }]
  })
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_all, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))
}

function under(mount: Mount, cgroupPath: string): string {
  const relative = mount.root !== '/' && cgroupPath.startsWith(mount.root) ? cgroupPath.slice(mount.root.length) : cgroupPath
  return path.posix.resolve(mount.mountPoint, `.${relative}`)
}

/**
 * Where this process's memory cgroup lives, from /proc/self/cgroup and /proc/self/mountinfo:
 * both versions when both are mounted (hybrid hosts), v2 first.
 */
export function parseCgroupHosts(procSelfCgroup: string, mountinfo: string): CgroupHost[] {
  const mounts = parseMountinfo(mountinfo)
  const hosts: CgroupHost[] = []
  for (const line of procSelfCgroup.split('\n')) {
    const [, id, controllers, cgroupPath] = /^(\d+):([^:]*):(.*)$/.exec(line) ?? []
    if (id === undefined || controllers === undefined || cgroupPath === undefined) continue
    if (id === '0' && controllers === '') {
      const mount = mounts.find((m) => m.fsType === 'cgroup2')
      if (mount !== undefined) hosts.unshift({ version: 2, parentDir: under(mount, cgroupPath) })
    } else if (controllers.split(',').includes('memory')) {
      const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes('memory'))
      if (mount !== undefined) hosts.push({ version: 1, parentDir: under(mount, cgroupPath) })
    }
  }
  return hosts
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file)
    return true
  } catch {
    // Absent or not ours to use: either way no cgroup limit, and the watchdog takes over.
    return false
  }
}

async function canLimitMemoryUnder(host: CgroupHost): Promise<boolean> {
  if (host.version === 1) return exists(path.join(host.parentDir, 'memory.limit_in_bytes'))
  // v2 hands the memory controller to children only through subtree_control, and refuses
  // to while the parent holds processes (ours, usually): then the watchdog it is. A file we
  // cannot read is the same answer: no memory controller for us.
  const controllers = await readFile(path.join(host.parentDir, 'cgroup.controllers'), 'utf8').catch(() => '')
  if (!controllers.split(/\s+/).includes('memory')) return false
  const subtree = await readFile(path.join(host.parentDir, 'cgroup.subtree_control'), 'utf8').catch(() => '')
  if (subtree.split(/\s+/).includes('memory')) return true
  return writeFile(path.join(host.parentDir, 'cgroup.subtree_control'), '+memory').then(() => true, () => false)
}

/**
 * A cgroup parent where this process may make memory-limited children: the configured one,
 * else its own (v2 preferred). Throws CgroupUnavailableError saying why not.
 */
export async function findCgroupHost(configuredParent?: string): Promise<CgroupHost> {
  let candidates: CgroupHost[]
  if (configuredParent !== undefined) {
    candidates = [{ version: (await exists(path.join(configuredParent, 'cgroup.controllers'))) ? 2 : 1, parentDir: configuredParent }]
  } else {
    if (process.platform !== 'linux') throw new CgroupUnavailableError(`no cgroups on ${process.platform}`)
    const [own, mountinfo] = await Promise.all([readFile('/proc/self/cgroup', 'utf8'), readFile('/proc/self/mountinfo', 'utf8')])
    candidates = parseCgroupHosts(own, mountinfo)
  }
  for (const host of candidates) if (await canLimitMemoryUnder(host)) return host
  throw new CgroupUnavailableError(`no writable memory cgroup under ${candidates.map((c) => c.parentDir).join(' or ') || 'this process'}`)
}

/** One render's memory cgroup. Make it with create(), wrap the command, dispose() after. */
export class MemoryCgroup {
  private constructor(readonly host: CgroupHost, readonly dir: string, readonly limitMb: number) {}

  /** Makes the cgroup and sets its limit; throws CgroupUnavailableError if the kernel refuses. */
  static async create(host: CgroupHost, name: string, limitMb: number): Promise<MemoryCgroup> {
    const dir = path.join(host.parentDir, `${name}-${randomBytes(3).toString('hex')}`)
    try {
      await mkdir(dir)
    } catch (err) {
      throw new CgroupUnavailableError(`cannot make cgroup ${dir}: ${(err as Error).message}`)
    }
    const cgroup = new MemoryCgroup(host, dir, limitMb)
    try {
      await cgroup.writeLimit(String(limitMb * BYTES_PER_MB))
    } catch (err) {
      await rmdir(dir)
      throw new CgroupUnavailableError(`cannot limit memory in ${dir}: ${(err as Error).message}`)
    }
    return cgroup
  }

  private async writeLimit(bytes: string): Promise<void> {
    const [limitFile, swapFile, swapValue] = this.host.version === 2
      ? ['memory.max', 'memory.swap.max', '0']
      : ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', bytes]
    await writeFile(path.join(this.dir, limitFile), bytes)
    // Without this the render would swap past its limit instead of being stopped.
    // Kernels without swap accounting have no such file.
    try {
      await writeFile(path.join(this.dir, swapFile), swapValue)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }

  /** The command run inside the cgroup: sh joins it, then execs the renderer in its place. */
  wrap(file: string, args: readonly string[]): { file: string; args: string[] } {
    return { file: '/bin/sh', args: ['-c', 'echo $$ > "$0" && exec "$@"', path.join(this.dir, 'cgroup.procs'), file, ...args] }
  }

  /** Whether the kernel's OOM killer killed anything in this cgroup. */
  async oomKilled(): Promise<boolean> {
    const text = await readFile(path.join(this.dir, this.host.version === 2 ? 'memory.events' : 'memory.oom_control'), 'utf8')
    const count = /^oom_kill (\d+)$/m.exec(text)?.[1]
    if (count !== undefined) return Number(count) > 0
    // v1 kernels before 4.13 do not count kills; hitting the limit is the best sign there is.
    return Number(await readFile(path.join(this.dir, 'memory.failcnt'), 'utf8')) > 0
  }

  /** Kills whatever is left inside and removes the cgroup. */
  async dispose(): Promise<void> {
    await removeCgroup(this.dir)
  }
}

async function cgroupPids(dir: string): Promise<number[]> {
  const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8')
  return text.split('\n').filter((l) => l !== '').map(Number)
}

/**
 * Kills every process in the cgroup at `dir`: at once through `cgroup.kill` (cgroup v2,
 * Linux 5.14 on), which also catches what forks meanwhile; else pid by pid.
 */
async function killCgroup(dir: string): Promise<void> {
  const killFile = path.join(dir, 'cgroup.kill')
  if (await exists(killFile)) {
    await writeFile(killFile, '1')
    return
  }
  for (const pid of await cgroupPids(dir)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
    }
  }
}

/**
 * Kills what is left in a render's cgroup and removes it (the kernel refuses while it is
 * busy): after a render, and for the cgroup of a render whose node died under it.
 */
export async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await killCgroup(dir)
    try {
      await rmdir(dir)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= RMDIR_ATTEMPTS) throw err
    }
    await sleep(RMDIR_RETRY_MS)
  }
}
