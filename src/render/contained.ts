/**
 * Contained render (seed, 4.0): a block renders into a local scratch folder
 * `<scratch>/<job>/<block>-<epoch>/`, every expected frame is checked there, and only then
 * are the frames copied in bulk to the target — each under a temporary name, renamed when
 * all are copied and checked — so nobody ever sees a half-written frame at the target, and
 * a failed copy (a full disk, a permission) leaves nothing of the block there.
 */
import { randomBytes } from 'node:crypto'
import * as fsp from 'node:fs/promises'
import path from 'node:path'
import { TargetWriteError } from './errors.js'
import { frameOfFileName } from './adapters/rules.js'
import type { RenderTask } from './task.js'

export interface ScratchDirs {
  /** `<scratch>/<job>/<block>-<epoch>`, removed after the block whatever happened. */
  readonly blockDir: string
  /** The renderer's output folder. */
  readonly outputDir: string
  /** TMPDIR/TEMP/TMP of the renderer, so its crash leftovers go with the scratch. */
  readonly tmpDir: string
  /** Files the adapter needs beside the render (Nuke's init.py). */
  readonly supportDir: string
}

export interface OutputFile {
  /** Relative to the output folder; the same relative path is used at the target. */
  readonly relPath: string
  readonly size: number
}

/** The file operations the copy uses, so tests can make one fail (a full disk) part-way. */
export interface CopyFs {
  copyFile(src: string, dest: string): Promise<void>
  rename(from: string, to: string): Promise<void>
  unlink(file: string): Promise<void>
  stat(file: string): Promise<{ size: number }>
  mkdir(dir: string, options: { recursive: true }): Promise<string | undefined>
  rmdir(dir: string): Promise<void>
}

export const NODE_FS: CopyFs = fsp

/** Files copied at once: enough to keep a network share busy, few enough not to thrash a disk. */
export const DEFAULT_COPY_CONCURRENCY = 8

const TEMP_SUFFIX = '.cr-part'

export async function prepareScratch(scratchRoot: string, task: RenderTask): Promise<ScratchDirs> {
  const blockDir = path.join(scratchRoot, task.jobId, `${task.blockIndex}-${task.epoch}`)
  const dirs = { blockDir, outputDir: path.join(blockDir, 'out'), tmpDir: path.join(blockDir, 'tmp'), supportDir: path.join(blockDir, 'support') }
  // Left over from a crash of this same attempt: start clean.
  await fsp.rm(blockDir, { recursive: true, force: true })
  await Promise.all([dirs.outputDir, dirs.tmpDir, dirs.supportDir].map((d) => fsp.mkdir(d, { recursive: true })))
  return dirs
}

/** Removes a block's scratch folder, and the job's folder when no other block of it is there. */
export async function removeScratch(dirs: ScratchDirs): Promise<void> {
  await fsp.rm(dirs.blockDir, { recursive: true, force: true, maxRetries: 3 })
  try {
    await fsp.rmdir(path.dirname(dirs.blockDir))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw err
  }
}

/** Empties the scratch root: for a node starting up, when no render of its own can be running. */
export async function removeStaleScratch(scratchRoot: string): Promise<void> {
  let entries: string[]
  try {
    entries = await fsp.readdir(scratchRoot)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  await Promise.all(entries.map((e) => fsp.rm(path.join(scratchRoot, e), { recursive: true, force: true, maxRetries: 3 })))
}

/** Every file the renderer wrote, at any depth (Maya puts render layers in sub-folders). */
export async function listOutputs(outputDir: string): Promise<OutputFile[]> {
  const entries = await fsp.readdir(outputDir, { recursive: true, withFileTypes: true })
  const files = entries.filter((e) => e.isFile())
  return Promise.all(files.map(async (e) => {
    const full = path.join(e.parentPath, e.name)
    return { relPath: path.relative(outputDir, full), size: (await fsp.stat(full)).size }
  }))
}

/** Expected frames without a non-empty image of their own among the outputs. */
export function missingFrames(frames: readonly number[], outputs: readonly OutputFile[], imageName: string): number[] {
  const present = new Set<number>()
  for (const output of outputs) {
    const base = path.basename(output.relPath)
    const frame = frameOfFileName(base)
    if (frame !== undefined && output.size > 0 && base.startsWith(imageName)) present.add(frame)
  }
  return frames.filter((f) => !present.has(f))
}

/** The file-system error as a TargetWriteError; anything else is not ours to classify and is returned as is. */
function targetError(targetDir: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code
  if (typeof code !== 'string') return err
  const reason = code === 'ENOSPC' || code === 'EDQUOT' ? 'disk-full' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'target-permission' : 'io-error'
  return new TargetWriteError(targetDir, reason, code, (err as Error).message)
}

async function unlinkIfThere(fs: CopyFs, file: string): Promise<void> {
  try {
    await fs.unlink(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

export interface CopyOptions {
  readonly signal?: AbortSignal | undefined
  readonly concurrency?: number | undefined
  readonly fs?: CopyFs | undefined
}

export type CopyResult = { readonly kind: 'copied'; readonly paths: readonly string[] } | { readonly kind: 'aborted' }

/**
 * Copies the outputs to the target in bulk: all under temporary names (checked to have the
 * source's size), then all renamed. On any failure or abort before the renames, removes
 * every temporary file and folder it made and throws TargetWriteError (or reports aborted).
 */
export async function copyToTarget(outputDir: string, outputs: readonly OutputFile[], targetDir: string, options: CopyOptions = {}): Promise<CopyResult> {
  const fs = options.fs ?? NODE_FS
  const suffix = `${TEMP_SUFFIX}-${randomBytes(4).toString('hex')}`
  const jobs = outputs.map((o) => {
    const final = path.join(targetDir, o.relPath)
    return { source: path.join(outputDir, o.relPath), size: o.size, final, temp: path.join(path.dirname(final), `.${path.basename(final)}${suffix}`) }
  })
  const madeDirs: string[] = []
  const written: string[] = []
  const rollback = async (): Promise<void> => {
    await Promise.all(written.map((t) => unlinkIfThere(fs, t)))
    for (const dir of madeDirs.sort((a, b) => b.length - a.length)) {
      try {
        await fs.rmdir(dir)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw err
      }
    }
  }
  try {
    for (const dir of new Set([targetDir, ...jobs.map((j) => path.dirname(j.final))])) {
      const first = await fs.mkdir(dir, { recursive: true })
      // Every folder mkdir made, from the first one down, so a rollback can remove them.
      if (first !== undefined) for (let d = dir; d.length >= first.length; d = path.dirname(d)) madeDirs.push(d)
    }
    let next = 0
    let stopped = false
    const worker = async (): Promise<void> => {
      while (next < jobs.length && !stopped) {
        if (options.signal?.aborted === true) return
        const job = jobs[next++] as (typeof jobs)[number]
        written.push(job.temp)
        await fs.copyFile(job.source, job.temp)
        const copied = (await fs.stat(job.temp)).size
        if (copied !== job.size) throw Object.assign(new Error(`${job.temp} has ${copied} bytes, expected ${job.size}`), { code: 'EIO' })
      }
    }
    // Every worker must have stopped before a rollback, or a late copy would outlive it.
    const settled = await Promise.allSettled(Array.from({ length: Math.max(1, options.concurrency ?? DEFAULT_COPY_CONCURRENCY) }, () => worker().catch((err: unknown) => {
      stopped = true
      throw err
    })))
    const failure = settled.find((s) => s.status === 'rejected')
    if (failure !== undefined) throw failure.reason
    if (options.signal?.aborted === true) {
      await rollback()
      return { kind: 'aborted' }
    }
    for (const job of jobs) {
      await fs.rename(job.temp, job.final)
      written.splice(written.indexOf(job.temp), 1)
    }
    return { kind: 'copied', paths: jobs.map((j) => j.final) }
  } catch (err) {
    await rollback()
    throw targetError(targetDir, err)
  }
}
