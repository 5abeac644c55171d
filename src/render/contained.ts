/**
 * Contained render (seed, 4.0): a block renders into its node's own scratch folder
 * `<scratch>/<node>/<job>/<block>-<epoch>/`, every expected frame is checked there, and
 * only then are the frames delivered to the target. Delivery is exactly-once: the frames
 * are copied into a hidden staging folder inside the target (same file system, so moving
 * them in is a link or a rename), then moved in; on any failure the attempt removes
 * exactly what it moved in and its staging, leaving the target as it was.
 *
 * A frame's name may already be taken at the target. If the block itself delivered that
 * frame (its node died before reporting, and the block was claimed again), it is kept and
 * never written again; anything else there (another job's frame, a re-render of the shot
 * into the same folder, a file cr did not write) is stale and is replaced, atomically, by
 * a rename over it. A file does not say who wrote it, so the target keeps a delivery
 * record per block, `.cr-delivered/<job>/<block>.json`: the frames that block put there.
 * It is written (temp file, then rename) before any frame moves in, so a node killed
 * mid-move leaves it behind and the next attempt keeps what was moved. It lists only the
 * names that were free or already the block's: a frame that replaces a stale file is added
 * once it is in, so a kill mid-replacement never makes a stale file look like the block's
 * (the next attempt replaces it again: at worst a frame delivered twice, never an old one
 * kept). A re-render asked for (`cr job retry`) replaces everything and rewrites the record.
 */
import { randomBytes } from 'node:crypto'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { TargetWriteError } from './errors.js'
import { frameOfFileName } from './adapters/rules.js'
import { SILENT_LOGGER } from './logger.js'
import type { RenderLogger } from './logger.js'
import type { RenderTask } from './task.js'

export interface ScratchDirs {
  /** `<scratch>/<node>/<job>/<block>-<epoch>`, removed after the block whatever happened. */
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

/** What identifies a file: a frame moved in by link or rename keeps its inode. */
export interface FileIdentity {
  readonly size: number
  readonly ino: number
  readonly dev: number
}

/** The file operations delivery uses, so tests can make one fail (a full disk) part-way. */
export interface CopyFs {
  copyFile(src: string, dest: string): Promise<void>
  link(existing: string, newPath: string): Promise<void>
  rename(from: string, to: string): Promise<void>
  unlink(file: string): Promise<void>
  lstat(file: string): Promise<FileIdentity>
  mkdir(dir: string, options: { recursive: true }): Promise<string | undefined>
  rmdir(dir: string): Promise<void>
  readdir(dir: string): Promise<string[]>
  rm(target: string, options: { recursive: true; force: true }): Promise<void>
  readFile(file: string, encoding: 'utf8'): Promise<string>
  writeFile(file: string, data: string): Promise<void>
}

export const NODE_FS: CopyFs = fsp

/** Files copied or moved at once: enough to keep a network share busy, few enough not to thrash a disk. */
export const DEFAULT_COPY_CONCURRENCY = 8

/** Where nodes render when their config names no scratch folder; nodes on one host share it. */
export const DEFAULT_SCRATCH_ROOT = path.join(tmpdir(), 'constellation-render')

/** Node ids become a folder name: a libp2p peer id (base58) always fits. */
const SAFE_NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/

/**
 * A node's own folder in the scratch root. Nodes sharing a host (and a scratch root)
 * each keep to theirs, so neither start-up sweeps nor same-named block folders (two nodes
 * colliding on one claim) ever touch another node's files.
 */
export function nodeScratchDir(scratchRoot: string, nodeId: string): string {
  if (!SAFE_NODE_ID.test(nodeId)) throw new RangeError(`node id ${JSON.stringify(nodeId)} cannot name a scratch folder`)
  return path.join(scratchRoot, nodeId)
}

/** `root` is the folder this renderer owns: a node's nodeScratchDir(), or a tool's own folder. */
export async function prepareScratch(root: string, task: RenderTask): Promise<ScratchDirs> {
  const blockDir = path.join(root, task.jobId, `${task.blockIndex}-${task.epoch}`)
  const dirs = { blockDir, outputDir: path.join(blockDir, 'out'), tmpDir: path.join(blockDir, 'tmp'), supportDir: path.join(blockDir, 'support') }
  // Left over from a crash of this same attempt: start clean.
  await fsp.rm(blockDir, { recursive: true, force: true })
  await Promise.all([dirs.outputDir, dirs.tmpDir, dirs.supportDir].map((d) => fsp.mkdir(d, { recursive: true })))
  return dirs
}

/** Removes a block's scratch folder, and the job's folder when no other block of it is there. */
export async function removeScratch(dirs: ScratchDirs): Promise<void> {
  await fsp.rm(dirs.blockDir, { recursive: true, force: true, maxRetries: 3 })
  await rmdirIfEmpty(NODE_FS, path.dirname(dirs.blockDir))
}

/**
 * Removes what a node left in its own scratch folder when it stopped (a crash mid-render).
 * Only that folder: the scratch root may be shared with other nodes, or be /var/tmp.
 * Call it while holding the node's store lock, so no other process of the node is rendering.
 */
export async function removeStaleScratch(scratchRoot: string, nodeId: string): Promise<void> {
  await fsp.rm(nodeScratchDir(scratchRoot, nodeId), { recursive: true, force: true, maxRetries: 3 })
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
  const code = codeOf(err)
  if (code === undefined) return err
  const reason = code === 'ENOSPC' || code === 'EDQUOT' ? 'disk-full' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'target-permission' : 'io-error'
  return new TargetWriteError(targetDir, reason, code, (err as Error).message)
}

function codeOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

async function rmdirIfEmpty(fs: CopyFs, dir: string): Promise<void> {
  try {
    await fs.rmdir(dir)
  } catch (err) {
    const code = codeOf(err)
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw err
  }
}

async function identityOf(fs: CopyFs, file: string): Promise<FileIdentity | undefined> {
  try {
    return await fs.lstat(file)
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return undefined
    throw err
  }
}

/** What an attempt does with a frame of its name already at the target. */
export type ExistingFrames =
  /** Keep it if the block's delivery record lists it (an earlier attempt delivered it); replace anything else. */
  | 'keep'
  /** Replace it whoever wrote it: a re-render that was asked for (`cr job retry`). */
  | 'replace'

/** The attempt a delivery belongs to: it names the staging folder and the delivery record. */
export type BlockAttempt = Pick<RenderTask, 'jobId' | 'blockIndex' | 'epoch'>

export interface Delivery {
  readonly outputDir: string
  readonly outputs: readonly OutputFile[]
  readonly targetDir: string
  readonly attempt: BlockAttempt
  readonly existing: ExistingFrames
}

export interface DeliveryOptions {
  readonly signal?: AbortSignal | undefined
  readonly concurrency?: number | undefined
  readonly fs?: CopyFs | undefined
  readonly logger?: RenderLogger | undefined
}

export type DeliveryResult =
  | {
    readonly kind: 'delivered'
    /** Every output's absolute path at the target: written now, kept or replaced. */
    readonly paths: readonly string[]
    /** Delivered by an earlier attempt of this block and left as they were. */
    readonly kept: readonly string[]
    /** Found at the target and replaced: not the block's own, or a re-render asked for. */
    readonly replaced: readonly string[]
  }
  | { readonly kind: 'aborted' }

/**
 * Errors of link(2) that mean "no hard links here" (FAT, some SMB and FUSE mounts), not
 * "you may not": a permission problem is EACCES, and the rename fallback meets it anyway.
 */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'])

const STAGING_PREFIX = '.cr-staging-'

/**
 * Where a target keeps its blocks' delivery records: the one entry cr leaves at a target
 * beside the frames (hidden, and a folder, so a listing of frame files skips it).
 */
export const DELIVERY_RECORDS_DIR = '.cr-delivered'

function stagingPrefixOf(attempt: BlockAttempt): string {
  return `${STAGING_PREFIX}${attempt.jobId}-b${attempt.blockIndex}-e`
}

/** One output on its way: where it is staged, where it lands, and where a replaced frame is kept until the end. */
interface Move {
  readonly relPath: string
  readonly source: string
  readonly size: number
  readonly staged: string
  readonly final: string
  readonly backup: string
}

/**
 * What becomes of one output at the target: kept (the block's own frame is there), added
 * (the name is free) or put over what is there.
 */
type MoveAction = 'keep' | 'add' | 'replace'

/** A frame this attempt put at the target, and how to take it back. */
interface Placed {
  readonly final: string
  readonly identity: FileIdentity
  /** The frame it replaced, kept in the staging folder; null when there was none. */
  readonly backup: string | null
}

type MoveOutcome = { readonly kind: 'written' | 'replaced'; readonly placed: Placed } | { readonly kind: 'kept' }

/** A block's delivery record as found at the target: whether there is one, and the frames it lists. */
interface DeliveryRecord {
  readonly exists: boolean
  readonly frames: ReadonlySet<string>
}

/**
 * Delivers a block's outputs to the target, all of them or none. Copies each into the
 * staging folder (checked to have the source's size), then decides each frame by the
 * block's delivery record (see the module header), updates the record, and moves the
 * frames in: a new one by link(2), which fails atomically with EEXIST when the name is
 * taken (where the target has no hard links, a check then a rename), a replacing one by a
 * rename over the file there, its old version held in the staging folder until the end.
 * On any failure it takes back every frame it placed (restoring any it replaced), puts
 * the record back as it was, removes its staging and the folders it made, and throws
 * TargetWriteError. An abort is heeded until the moves begin (then reported as aborted,
 * nothing left behind); the moves themselves are quick and are finished, so an abort
 * never leaves a block half in.
 */
export async function deliverToTarget(delivery: Delivery, options: DeliveryOptions = {}): Promise<DeliveryResult> {
  const fs = options.fs ?? NODE_FS
  const logger = options.logger ?? SILENT_LOGGER
  const { targetDir, attempt } = delivery
  const staging = path.join(targetDir, `${stagingPrefixOf(attempt)}${attempt.epoch}-${randomBytes(4).toString('hex')}`)
  const moves: Move[] = delivery.outputs.map((o) => ({
    relPath: o.relPath,
    source: path.join(delivery.outputDir, o.relPath),
    size: o.size,
    staged: path.join(staging, 'new', o.relPath),
    final: path.join(targetDir, o.relPath),
    backup: path.join(staging, 'old', o.relPath)
  }))
  const recordFile = path.join(targetDir, DELIVERY_RECORDS_DIR, attempt.jobId, `${attempt.blockIndex}.json`)
  const recordTemp = path.join(staging, 'record.json')
  const recordBackup = path.join(staging, 'record.old.json')
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_COPY_CONCURRENCY)
  const madeDirs: string[] = []
  const placed: Placed[] = []
  let stagingMade = false
  /** Whether there was a record before this attempt first rewrote it (then kept at recordBackup); undefined until then. */
  let recordExisted: boolean | undefined
  const makeDir = async (dir: string): Promise<void> => {
    const first = await fs.mkdir(dir, { recursive: true })
    // Every folder mkdir made, from the first one down, so a rollback can remove them.
    if (first !== undefined) for (let d = dir; d.length >= first.length; d = path.dirname(d)) madeDirs.push(d)
  }
  const rollback = async (): Promise<void> => {
    // Every placed frame is tried, whatever happens to the others; then the first failure surfaces.
    await inPool(placed.splice(0), concurrency, (p) => takeBack(fs, p), { keepGoing: true })
    if (recordExisted === true) await fs.rename(recordBackup, recordFile)
    else if (recordExisted === false) await removeIfPresent(fs, recordFile)
    if (stagingMade) await fs.rm(staging, { recursive: true, force: true })
    for (const dir of madeDirs.sort((a, b) => b.length - a.length)) await rmdirIfEmpty(fs, dir)
  }
  try {
    for (const dir of new Set([targetDir, ...moves.map((m) => path.dirname(m.final))])) await makeDir(dir)
    await sweepCrashedStaging(fs, targetDir, attempt)
    await fs.mkdir(staging, { recursive: true })
    stagingMade = true
    for (const dir of new Set(moves.map((m) => path.dirname(m.staged)))) await fs.mkdir(dir, { recursive: true })
    await inPool(moves, concurrency, async (move) => {
      await fs.copyFile(move.source, move.staged)
      const copied = (await fs.lstat(move.staged)).size
      if (copied !== move.size) throw Object.assign(new Error(`${move.staged} has ${copied} bytes, expected ${move.size}`), { code: 'EIO' })
    }, { signal: options.signal })
    if (options.signal?.aborted === true) {
      await rollback()
      return { kind: 'aborted' }
    }

    const before = await readRecord(fs, recordFile, attempt, logger)
    let recorded = before
    const record = async (frames: ReadonlySet<string>): Promise<void> => {
      if (recorded.exists ? sameSet(frames, recorded.frames) : frames.size === 0) return
      if (recordExisted === undefined) {
        if (before.exists) await preserve(fs, recordFile, recordBackup)
        else await makeDir(path.dirname(recordFile))
        recordExisted = before.exists
      }
      await fs.writeFile(recordTemp, recordText(attempt, frames))
      await fs.rename(recordTemp, recordFile)
      recorded = { exists: true, frames }
    }
    const own = delivery.existing === 'keep' ? before.frames : new Set<string>()
    const actions = new Map<Move, MoveAction>()
    await inPool(moves, concurrency, async (move) => {
      const taken = await identityOf(fs, move.final) !== undefined
      actions.set(move, !taken ? 'add' : own.has(move.relPath) ? 'keep' : 'replace')
    })
    const kept = moves.filter((m) => actions.get(m) === 'keep').map((m) => m.final)
    const replaced: string[] = []
    // Intent first: the names this attempt fills that are, or will be, the block's own.
    await record(new Set([...own, ...moves.filter((m) => actions.get(m) === 'add').map((m) => m.relPath)]))
    await inPool(moves.filter((m) => actions.get(m) !== 'keep'), concurrency, async (move) => {
      const outcome = await moveIn(fs, move, actions.get(move) === 'add' ? 'add' : 'replace')
      if (outcome.kind === 'kept') {
        kept.push(move.final)
        return
      }
      placed.push(outcome.placed)
      if (outcome.kind === 'replaced') replaced.push(move.final)
    })
    await record(new Set([...own, ...moves.map((m) => m.relPath)]))
    await removeStaging(fs, staging, logger)
    return { kind: 'delivered', paths: moves.map((m) => m.final), kept: kept.sort(), replaced: replaced.sort() }
  } catch (err) {
    try {
      await rollback()
    } catch (rollbackErr) {
      throw targetError(targetDir, Object.assign(new Error(`${(err as Error).message}; then taking back what this attempt moved in failed: ${(rollbackErr as Error).message}`), { code: codeOf(err) ?? codeOf(rollbackErr) }))
    }
    throw targetError(targetDir, err)
  }
}

/**
 * Moves one staged output to its final name: `add` never replaces (a name taken since it
 * was found free is another attempt of this block racing, a claim collision: its frame is
 * kept), `replace` renames over what is there.
 */
async function moveIn(fs: CopyFs, move: Move, action: Exclude<MoveAction, 'keep'>): Promise<MoveOutcome> {
  const identity = await fs.lstat(move.staged)
  if (await placeWithoutReplacing(fs, move)) return { kind: 'written', placed: { final: move.final, identity, backup: null } }
  if (action === 'add') return { kind: 'kept' }
  await fs.mkdir(path.dirname(move.backup), { recursive: true })
  await preserve(fs, move.final, move.backup)
  await fs.rename(move.staged, move.final)
  return { kind: 'replaced', placed: { final: move.final, identity, backup: move.backup } }
}

/** The block's delivery record at the target; one that cannot be read as a record lists nothing (its frames are then replaced), and is reported. */
async function readRecord(fs: CopyFs, file: string, attempt: BlockAttempt, logger: RenderLogger): Promise<DeliveryRecord> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return { exists: false, frames: new Set() }
    throw err
  }
  const frames = framesOfRecord(text, attempt)
  if (frames === undefined) logger.warn('delivery record unreadable: frames at the target are treated as not this block\'s, and replaced', { record: file })
  return { exists: true, frames: new Set(frames) }
}

function framesOfRecord(text: string, attempt: BlockAttempt): string[] | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    if (err instanceof SyntaxError) return undefined
    throw err
  }
  const record = parsed as Partial<Record<'jobId' | 'blockIndex' | 'frames', unknown>> | null
  const frames = record?.frames
  if (record?.jobId !== attempt.jobId || record.blockIndex !== attempt.blockIndex) return undefined
  return Array.isArray(frames) && frames.every((f) => typeof f === 'string') ? frames : undefined
}

/** The record's text: who wrote it last and the block's frames, relative to the target, one a line for a person reading it. */
function recordText(attempt: BlockAttempt, frames: ReadonlySet<string>): string {
  return `${JSON.stringify({ jobId: attempt.jobId, blockIndex: attempt.blockIndex, epoch: attempt.epoch, frames: [...frames].sort() }, null, 2)}\n`
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x))
}

async function removeIfPresent(fs: CopyFs, file: string): Promise<void> {
  try {
    await fs.unlink(file)
  } catch (err) {
    if (codeOf(err) !== 'ENOENT') throw err
  }
}

/** True when the staged file now has its final name; false when that name was already taken. */
async function placeWithoutReplacing(fs: CopyFs, move: Move): Promise<boolean> {
  try {
    await fs.link(move.staged, move.final)
    return true
  } catch (err) {
    if (codeOf(err) === 'EEXIST') return false
    if (!LINK_UNSUPPORTED.has(codeOf(err) ?? '')) throw err
  }
  if (await identityOf(fs, move.final) !== undefined) return false
  await fs.rename(move.staged, move.final)
  return true
}

/** A second name for a frame (or record) about to be replaced, so a rollback can put it back. */
async function preserve(fs: CopyFs, frame: string, backup: string): Promise<void> {
  try {
    await fs.link(frame, backup)
  } catch (err) {
    if (!LINK_UNSUPPORTED.has(codeOf(err) ?? '')) throw err
    await fs.copyFile(frame, backup)
  }
}

/** Undoes one placed frame, if the file there is still the one this attempt put there. */
async function takeBack(fs: CopyFs, p: Placed): Promise<void> {
  const now = await identityOf(fs, p.final)
  if (now === undefined || now.ino !== p.identity.ino || now.dev !== p.identity.dev) return
  if (p.backup === null) await fs.unlink(p.final)
  else await fs.rename(p.backup, p.final)
}

/**
 * Removes the staging folders that earlier attempts of this block left when their node
 * died mid-delivery: a higher epoch has superseded them, so nobody will finish them. The
 * delivery records are not staging and stay: they are how the block knows its frames.
 */
async function sweepCrashedStaging(fs: CopyFs, targetDir: string, attempt: BlockAttempt): Promise<void> {
  const prefix = stagingPrefixOf(attempt)
  const stale = (await fs.readdir(targetDir)).filter((name) => {
    if (!name.startsWith(prefix)) return false
    const epoch = /^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length))?.[1]
    return epoch !== undefined && Number(epoch) < attempt.epoch
  })
  await Promise.all(stale.map((name) => fs.rm(path.join(targetDir, name), { recursive: true, force: true })))
}

/** After a delivery: the frames are at the target whatever happens here, so a leftover is only reported. */
async function removeStaging(fs: CopyFs, staging: string, logger: RenderLogger): Promise<void> {
  try {
    await fs.rm(staging, { recursive: true, force: true })
  } catch (err) {
    // Failing the block now would undo frames delivered whole; the folder is hidden and small.
    logger.warn('staging folder left at the target', { staging, error: (err as Error).message })
  }
}

/**
 * Runs `work` on every item, `concurrency` at a time. Stops taking items when `signal`
 * aborts, and at the first failure unless `keepGoing`. Returns only once every started
 * item has settled, so a rollback after it never races a late write; then throws the
 * first failure.
 */
async function inPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>, options: { readonly signal?: AbortSignal | undefined; readonly keepGoing?: boolean } = {}): Promise<void> {
  let next = 0
  let failed = false
  const failures: unknown[] = []
  const worker = async (): Promise<void> => {
    while (next < items.length && !(failed && options.keepGoing !== true) && options.signal?.aborted !== true) {
      try {
        await work(items[next++] as T)
      } catch (err) {
        failed = true
        failures.push(err)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, items.length)) }, worker))
  if (failures.length > 0) throw failures[0]
}
