/**
 * Watches the jobs' target folders for the whole run and remembers each frame file as it
 * was first seen (inode, mtime, size). A frame that later has another identity was written
 * again: a duplicate delivery, which "never redo work" forbids unless a re-render was
 * asked for (the suite asks for none). At the end it checks that every expected frame is
 * there, whole (the caller's check: a checksum, a PNG decode), and that nothing else is.
 */
import { lstat, readdir, readFile } from 'node:fs/promises'
import path from 'node:path'

/** How often the targets are listed: rewrites change the inode, so a slow poll still sees them. */
const POLL_MS = 200

export type WholeCheck = (file: string, content: Buffer) => string | undefined

export interface WatchedTarget {
  readonly label: string
  readonly dir: string
  /** The file names the job must leave there, one per frame. */
  readonly expected: readonly string[]
  /** Undefined when the file is a whole frame; else why not. */
  readonly whole: WholeCheck
}

interface Identity {
  readonly ino: bigint
  readonly mtimeNs: bigint
  readonly size: bigint
}

export interface Rewrite {
  readonly target: string
  readonly file: string
  readonly atMs: number
}

export interface TargetVerdict {
  readonly label: string
  readonly present: number
  readonly missing: readonly string[]
  readonly broken: readonly string[]
  /** Files that are not expected frames: a leftover temporary file, a stray name. */
  readonly litter: readonly string[]
}

export class FrameLedger {
  readonly rewrites: Rewrite[] = []
  private readonly targets: WatchedTarget[] = []
  private readonly seen = new Map<string, Identity>()
  private timer: NodeJS.Timeout | undefined
  private polling: Promise<void> = Promise.resolve()

  constructor (private readonly startedAt: number) {}

  watch (target: WatchedTarget): void {
    this.targets.push(target)
  }

  start (): void {
    this.timer ??= setInterval(() => { this.polling = this.polling.then(async () => this.poll()) }, POLL_MS)
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.polling
    await this.poll()
  }

  /** Expected frames seen at their targets so far. */
  get delivered (): number {
    return this.targets.reduce((sum, target) => sum + target.expected.filter((file) => this.seen.has(path.join(target.dir, file))).length, 0)
  }

  async verdicts (): Promise<TargetVerdict[]> {
    return Promise.all(this.targets.map(async (target) => {
      const files = await listing(target.dir)
      const expected = new Set(target.expected)
      const broken: string[] = []
      for (const file of files.filter((name) => expected.has(name))) {
        const why = target.whole(file, await readFile(path.join(target.dir, file)))
        if (why !== undefined) broken.push(`${file}: ${why}`)
      }
      const present = new Set(files)
      return {
        label: target.label,
        present: target.expected.filter((name) => present.has(name)).length,
        missing: target.expected.filter((name) => !present.has(name)),
        broken,
        litter: files.filter((name) => !expected.has(name))
      }
    }))
  }

  private async poll (): Promise<void> {
    for (const target of this.targets) {
      for (const file of await listing(target.dir)) {
        const full = path.join(target.dir, file)
        let stat
        try {
          stat = await lstat(full, { bigint: true })
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
          throw error
        }
        const now = { ino: stat.ino, mtimeNs: stat.mtimeNs, size: stat.size }
        const before = this.seen.get(full)
        if (before !== undefined && (before.ino !== now.ino || before.mtimeNs !== now.mtimeNs || before.size !== now.size)) {
          this.rewrites.push({ target: target.label, file, atMs: Date.now() - this.startedAt })
        }
        this.seen.set(full, now)
      }
    }
  }
}

/** The files in a folder (temporary ones included); [] while it does not exist yet. */
async function listing (dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name).sort()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}
