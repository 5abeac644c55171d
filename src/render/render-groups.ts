/**
 * The renders a node has running, on disk: one small file per render's process group in
 * `<scratch>/.render-groups/`, written when the renderer starts and removed when it ends.
 * A file still there at the node's next start is a render whose node died under it (a
 * SIGKILL, a power cut of the node's process but not of the renderer's): the sweep kills
 * what is left of it. It is the backstop behind the guardian (guardian.ts), and the only
 * defence on macOS, where there is no parent-death signal.
 *
 * Pids are reused, so a group is killed only when its leader is the very process that
 * was recorded (same start time) or is gone while members of its group remain (a pid
 * cannot be handed out again while a group of that number exists). A file whose owner
 * node is still alive (two nodes sharing a scratch folder) is left alone.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { nodeScratchDir } from './contained.js'
import { removeCgroup } from './limits/cgroup.js'
import { processStartOf } from './process-tree.js'

/** Hidden, so it can never be a job's scratch folder (job ids start with a letter or digit). */
export const RENDER_GROUPS_DIR = '.render-groups'

/** Where a renderer that owns the scratch folder `ownScratch` records its groups. */
export function renderGroupsDirOf (ownScratch: string): string {
  return path.join(ownScratch, RENDER_GROUPS_DIR)
}

interface GroupRecord {
  readonly group: number
  readonly groupStart: string
  readonly owner: number
  readonly ownerStart: string
  readonly cgroupDir: string | null
  readonly label: string
  readonly startedAt: string
}

/**
 * What the sweep did with one leftover record. `killed`: what was left of the render was
 * killed; `gone`: nothing of it was left; `pid-reused`: its pid is another process now,
 * left alone; `unreadable`: the record was cut short (the node died writing it), so
 * nothing is known to kill.
 */
export type SweptGroup =
  | { readonly outcome: 'killed' | 'gone' | 'pid-reused', readonly group: number, readonly label: string }
  | { readonly outcome: 'unreadable', readonly file: string, readonly why: string }

type Parsed = { readonly kind: 'record', readonly record: GroupRecord } | { readonly kind: 'unreadable', readonly why: string }

function recordFile (dir: string, group: number): string {
  return path.join(dir, `${group}.json`)
}

/**
 * Records a render's process group (its leader is `group`, a child of this process);
 * call the returned function when the render has ended.
 */
export async function recordRenderGroup (dir: string, group: number, details: { readonly label: string, readonly cgroupDir: string | undefined }): Promise<() => Promise<void>> {
  const [groupStart, ownerStart] = await Promise.all([processStartOf(group), processStartOf(process.pid)])
  if (ownerStart === undefined) throw new Error(`no start time for this process (${process.pid})`)
  const file = recordFile(dir, group)
  // The renderer may already have exited: then there is nothing to record.
  if (groupStart === undefined) return () => Promise.resolve()
  const record: GroupRecord = {
    group, groupStart, owner: process.pid, ownerStart, cgroupDir: details.cgroupDir ?? null, label: details.label, startedAt: new Date().toISOString()
  }
  await mkdir(dir, { recursive: true })
  await writeFile(file, JSON.stringify(record))
  return async () => { await rm(file, { force: true }) }
}

function parseRecord (text: string): Parsed {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err
    return { kind: 'unreadable', why: `not JSON (${err.message})` }
  }
  const record = value as Partial<GroupRecord> | null
  if (
    typeof record?.group !== 'number' || !Number.isSafeInteger(record.group) || record.group <= 1 ||
    typeof record.groupStart !== 'string' || typeof record.owner !== 'number' || typeof record.ownerStart !== 'string' ||
    typeof record.label !== 'string' || (record.cgroupDir !== null && typeof record.cgroupDir !== 'string')
  ) return { kind: 'unreadable', why: 'not a render group record' }
  return { kind: 'record', record: record as GroupRecord }
}

function groupExists (group: number): boolean {
  try {
    process.kill(-group, 0)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
}

function killGroup (group: number): void {
  try {
    process.kill(-group, 'SIGKILL')
  } catch (err) {
    // Gone between the check and the kill: what we wanted.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

async function sweepOne (record: GroupRecord): Promise<'killed' | 'gone' | 'pid-reused'> {
  const leaderStart = await processStartOf(record.group)
  let outcome: 'killed' | 'gone' | 'pid-reused'
  if (leaderStart !== undefined && leaderStart !== record.groupStart) {
    outcome = 'pid-reused'
  } else if (leaderStart !== undefined || groupExists(record.group)) {
    killGroup(record.group)
    outcome = 'killed'
  } else {
    outcome = 'gone'
  }
  if (record.cgroupDir !== null && await stat(record.cgroupDir).then(() => true, () => false)) {
    await removeCgroup(record.cgroupDir)
    outcome = outcome === 'pid-reused' ? outcome : 'killed'
  }
  return outcome
}

/**
 * Kills the renders left running by a node that died under them, from the records in
 * `dir`, and removes their records; records of a node still alive are left. Call it
 * before the scratch folder is cleared, at the node's start. Nothing is recorded on
 * Windows (no process groups), so there it finds nothing.
 */
export async function sweepRenderGroups (dir: string): Promise<SweptGroup[]> {
  if (process.platform === 'win32') return []
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const swept: SweptGroup[] = []
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = path.join(dir, name)
    const parsed = parseRecord(await readFile(file, 'utf8'))
    if (parsed.kind === 'unreadable') {
      swept.push({ outcome: 'unreadable', file, why: parsed.why })
      await rm(file, { force: true })
      continue
    }
    const { record } = parsed
    if (await processStartOf(record.owner) === record.ownerStart) continue
    swept.push({ outcome: await sweepOne(record), group: record.group, label: record.label })
    await rm(file, { force: true })
  }
  return swept
}

/** The sweep at a node's start: its records are in its own scratch folder (contained.ts), which renderBlock() uses. */
export async function sweepLeftoverRenders (scratchRoot: string, nodeId: string): Promise<SweptGroup[]> {
  return sweepRenderGroups(renderGroupsDirOf(nodeScratchDir(scratchRoot, nodeId)))
}
