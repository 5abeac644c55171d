/**
 * Contained render's delivery to the target, on real files: all of a block's frames or
 * none; a frame the block itself delivered never written again (its delivery record says
 * which), anything else at a frame's name replaced; and each node keeping to its own
 * scratch folder.
 */
import { createHash } from 'node:crypto'
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import { deliverToTarget, DELIVERY_RECORDS_DIR, listOutputs, missingFrames, NODE_FS, nodeScratchDir, prepareScratch, removeScratch, removeStaleScratch } from '../../src/render/contained.js'
import type { CopyFs, Delivery, OutputFile } from '../../src/render/contained.js'
import type { RenderLogger } from '../../src/render/logger.js'
import { renderBlock } from '../../src/render/render-block.js'
import { writeProceduralScene } from '../../src/render/procedural/scene.js'
import { filesUnder, makeTask, tempDir } from '../fixtures/render/helpers.js'

const ATTEMPT = { jobId: 'job-1', blockIndex: 0, epoch: 2 }

type Operation = 'copyFile' | 'link' | 'rename'

/** Whether a file operation puts a frame at its final name (the move-in), not in the staging folder or the delivery record. */
function intoTarget(dest: string): boolean {
  return !dest.includes('.cr-staging-') && !dest.includes(DELIVERY_RECORDS_DIR)
}

/**
 * Real file operations, except that the nth call of `operation` fails with an errno code.
 * With `intoTarget`, only calls that put a frame at its final name count (the move-in
 * phase).
 */
function failing(operation: Operation, nth: number, code: string, options: { readonly intoTarget?: boolean } = {}): CopyFs {
  let calls = 0
  const fail = (): never => { throw Object.assign(new Error(`${code}: injected`), { code }) }
  const counts = (op: Operation, dest: string): boolean => op === operation && (options.intoTarget !== true || intoTarget(dest)) && ++calls === nth
  return {
    ...NODE_FS,
    copyFile: async (src, dest) => {
      if (counts('copyFile', dest)) {
        // Half a file, as a full disk leaves it.
        await writeFile(dest, 'partial')
        fail()
      }
      await NODE_FS.copyFile(src, dest)
    },
    link: async (existing, newPath) => {
      if (counts('link', newPath)) fail()
      await NODE_FS.link(existing, newPath)
    },
    rename: async (from, to) => {
      if (counts('rename', to)) fail()
      await NODE_FS.rename(from, to)
    }
  }
}

/**
 * Real file operations, until the nth move of a frame into the target (`operation`), which
 * never returns: the node was killed there. `killed` resolves when that point is reached.
 */
function killedAt(operation: 'link' | 'rename', nth: number): { readonly fs: CopyFs; readonly killed: Promise<void> } {
  let calls = 0
  let resolve = (): void => undefined
  const killed = new Promise<void>((r) => { resolve = r })
  const hangs = (dest: string): boolean => intoTarget(dest) && ++calls === nth
  const hang = (): Promise<never> => {
    resolve()
    return new Promise<never>(() => undefined)
  }
  const fs: CopyFs = operation === 'link'
    ? { ...NODE_FS, link: (existing, newPath) => hangs(newPath) ? hang() : NODE_FS.link(existing, newPath) }
    : { ...NODE_FS, rename: (from, to) => hangs(to) ? hang() : NODE_FS.rename(from, to) }
  return { fs, killed }
}

/** `fs` on a target without hard links (FAT, some SMB mounts): link(2) says EPERM. */
function withoutHardLinks(fs: CopyFs): CopyFs {
  return { ...fs, link: () => Promise.reject(Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' })) }
}

const NO_HARD_LINKS = withoutHardLinks(NODE_FS)

async function writeFiles(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true })
    await writeFile(path.join(dir, name), content)
  }
}

/** Renders (writes) `names` into `dir`, each holding `<render> of <name>`; a later render of the same names writes other bytes. */
async function outputs(dir: string, names: string[], render = 'data'): Promise<OutputFile[]> {
  await writeFiles(dir, Object.fromEntries(names.map((name) => [name, `${render} of ${name}`])))
  return listOutputs(dir)
}

/** What a frame at the target is: its bytes and its inode, so a frame written again shows even with the same bytes. */
async function frameAt(target: string, name: string): Promise<{ readonly content: string; readonly ino: number }> {
  const file = path.join(target, name)
  return { content: await readFile(file, 'utf8'), ino: (await lstat(file)).ino }
}

/** The frames the block's delivery record at the target lists. */
async function recordedFrames(target: string, attempt: { readonly jobId: string; readonly blockIndex: number } = ATTEMPT): Promise<string[]> {
  const record = JSON.parse(await readFile(path.join(target, DELIVERY_RECORDS_DIR, attempt.jobId, `${attempt.blockIndex}.json`), 'utf8')) as { frames: string[] }
  return record.frames
}

/** Everything under a folder, hidden entries and folders included: kind, checksum and inode of each. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const shot: Record<string, string> = {}
  for (const entry of entries) {
    const full = path.join(entry.parentPath, entry.name)
    const rel = path.relative(dir, full)
    if (entry.isDirectory()) shot[rel] = 'dir'
    else shot[rel] = `${createHash('sha256').update(await readFile(full)).digest('hex')} ino ${(await lstat(full)).ino}`
  }
  return shot
}

/** A target that already holds work of others: a file, a folder with a file, a hidden file. */
async function busyTarget(dir: string): Promise<string> {
  const target = path.join(dir, 'target')
  await writeFiles(target, { 'earlier.txt': 'not ours', 'layer/other_0001.png': 'someone else', '.DS_Store': 'finder' })
  return target
}

function delivery(out: string, files: readonly OutputFile[], targetDir: string, fields: Partial<Delivery> = {}): Delivery {
  return { outputDir: out, outputs: files, targetDir, attempt: ATTEMPT, existing: 'keep', ...fields }
}

function recordingLogger(): RenderLogger & { readonly lines: string[] } {
  const lines: string[] = []
  const log = (msg: string, fields?: Readonly<Record<string, unknown>>): void => { lines.push(`${msg} ${JSON.stringify(fields ?? {})}`) }
  return { lines, debug: () => undefined, warn: log }
}

test('outputs are delivered with their folders, and only final names are left', async (t) => {
  const dir = await tempDir(t)
  const out = path.join(dir, 'out')
  const files = await outputs(out, ['shot_0001.exr', 'shot_0002.exr', 'beauty/shot_0001.exr'])
  const target = path.join(dir, 'target', 'deep')
  const result = await deliverToTarget(delivery(out, files, target), { concurrency: 2 })
  t.like(result, { kind: 'delivered', kept: [], replaced: [] })
  t.deepEqual(await readdir(target, { recursive: true }).then((names) => names.sort()), [
    '.cr-delivered', '.cr-delivered/job-1', '.cr-delivered/job-1/0.json', 'beauty', 'beauty/shot_0001.exr', 'shot_0001.exr', 'shot_0002.exr'
  ], 'no staging folder is left, and the block\'s delivery record is there')
  t.is(await readFile(path.join(target, 'beauty/shot_0001.exr'), 'utf8'), 'data of beauty/shot_0001.exr')
  t.deepEqual(await recordedFrames(target), ['beauty/shot_0001.exr', 'shot_0001.exr', 'shot_0002.exr'])
})

for (const nth of [1, 3, 4]) {
  test(`a full disk on the copy of file ${nth} leaves the target exactly as it was, and says so`, async (t) => {
    const dir = await tempDir(t)
    const out = path.join(dir, 'out')
    const files = await outputs(out, ['shot_0001.png', 'shot_0002.png', 'shot_0003.png', 'layer/shot_0001.png'])
    const target = await busyTarget(dir)
    const before = await snapshot(target)
    const error = await t.throwsAsync(deliverToTarget(delivery(out, files, target), { concurrency: 1, fs: failing('copyFile', nth, 'ENOSPC') }), { name: 'TargetWriteError' })
    t.like(error, { reason: 'disk-full', code: 'ENOSPC' })
    t.deepEqual(await snapshot(target), before)
  })
}

for (const [operation, hardLinks] of [['link', true], ['rename', false]] as const) {
  test(`a failure moving in the third frame (${operation}) takes back the two already in, leaving the target as it was`, async (t) => {
    const dir = await tempDir(t)
    const out = path.join(dir, 'out')
    const files = await outputs(out, ['shot_0001.png', 'shot_0002.png', 'shot_0003.png', 'shot_0004.png'])
    const target = await busyTarget(dir)
    const before = await snapshot(target)
    const injected = failing(operation, 3, 'EACCES', { intoTarget: true })
    const error = await t.throwsAsync(deliverToTarget(delivery(out, files, target), { concurrency: 1, fs: hardLinks ? injected : withoutHardLinks(injected) }), { name: 'TargetWriteError' })
    t.like(error, { reason: 'target-permission' })
    t.deepEqual(await snapshot(target), before)
  })
}

test('a target folder that did not exist is gone again after a failed delivery', async (t) => {
  const dir = await tempDir(t)
  const out = path.join(dir, 'out')
  const files = await outputs(out, ['shot_0001.png', 'sub/shot_0002.png'])
  const target = path.join(dir, 'renders', 'shot010')
  await t.throwsAsync(deliverToTarget(delivery(out, files, target), { concurrency: 1, fs: failing('link', 2, 'EIO', { intoTarget: true }) }), { name: 'TargetWriteError' })
  t.deepEqual(await readdir(dir), ['out'])
})

for (const hardLinks of [true, false]) {
  test(`a later attempt of the block keeps the frames it delivered: not one written again (content, inode, record)${hardLinks ? '' : ', without hard links'}`, async (t) => {
    const dir = await tempDir(t)
    const fs = hardLinks ? NODE_FS : NO_HARD_LINKS
    const target = path.join(dir, 'target')
    const names = ['shot_0001.png', 'shot_0002.png', 'layer/shot_0001.png']
    await deliverToTarget(delivery(path.join(dir, 'out1'), await outputs(path.join(dir, 'out1'), names, 'first render'), target, { attempt: { ...ATTEMPT, epoch: 1 } }), { fs })
    const delivered = await snapshot(target)
    // The node died before reporting; the block is claimed again and rendered again.
    const result = await deliverToTarget(delivery(path.join(dir, 'out2'), await outputs(path.join(dir, 'out2'), names, 'second render'), target), { fs })
    t.deepEqual(result, { kind: 'delivered', paths: names.map((n) => path.join(target, n)), kept: names.map((n) => path.join(target, n)).sort(), replaced: [] })
    t.deepEqual(await snapshot(target), delivered, 'frames and record untouched: same bytes, same inodes')
    t.is((await frameAt(target, 'shot_0002.png')).content, 'first render of shot_0002.png')
  })
}

test('another job\'s frames of the same names are replaced, atomically, and reported; its record is left alone', async (t) => {
  const dir = await tempDir(t)
  const target = path.join(dir, 'target')
  const names = ['shot_0001.png', 'shot_0002.png', 'shot_0003.png']
  const v1 = { jobId: 'shot-v1', blockIndex: 0, epoch: 1 }
  await deliverToTarget(delivery(path.join(dir, 'v1'), await outputs(path.join(dir, 'v1'), names, 'v1'), target, { attempt: v1 }))
  const old = await frameAt(target, 'shot_0002.png')
  // The artist re-renders the shot as a new job into the same folder.
  const result = await deliverToTarget(delivery(path.join(dir, 'v2'), await outputs(path.join(dir, 'v2'), names, 'v2'), target))
  t.like(result, { kind: 'delivered', kept: [], replaced: names.map((n) => path.join(target, n)) })
  for (const name of names) t.is((await frameAt(target, name)).content, `v2 of ${name}`)
  t.not((await frameAt(target, 'shot_0002.png')).ino, old.ino)
  t.deepEqual(await recordedFrames(target), names)
  t.deepEqual(await recordedFrames(target, v1), names, 'the other job\'s record is not ours to edit')
  t.deepEqual(await filesUnder(target), names)
})

test('a file cr did not write at a frame\'s name is replaced, while the block\'s own frames are kept', async (t) => {
  const dir = await tempDir(t)
  const target = path.join(dir, 'target')
  // An earlier attempt delivered frames 1 and 2 only (the renderer named frame 3 otherwise then).
  await deliverToTarget(delivery(path.join(dir, 'out1'), await outputs(path.join(dir, 'out1'), ['shot_0001.png', 'shot_0002.png'], 'first'), target, { attempt: { ...ATTEMPT, epoch: 1 } }))
  const own = await frameAt(target, 'shot_0001.png')
  await writeFiles(target, { 'shot_0003.png': 'an artist\'s placeholder' })
  const result = await deliverToTarget(delivery(path.join(dir, 'out2'), await outputs(path.join(dir, 'out2'), ['shot_0001.png', 'shot_0002.png', 'shot_0003.png'], 'second'), target))
  t.like(result, { kind: 'delivered', kept: ['shot_0001.png', 'shot_0002.png'].map((n) => path.join(target, n)), replaced: [path.join(target, 'shot_0003.png')] })
  t.deepEqual(await frameAt(target, 'shot_0001.png'), own)
  t.is((await frameAt(target, 'shot_0003.png')).content, 'second of shot_0003.png')
  t.deepEqual(await recordedFrames(target), ['shot_0001.png', 'shot_0002.png', 'shot_0003.png'])
})

test('a node killed mid-move-in leaves its record: the next attempt keeps the frames moved in and moves in the rest', async (t) => {
  const dir = await tempDir(t)
  const target = path.join(dir, 'target')
  const names = ['shot_0001.png', 'shot_0002.png', 'shot_0003.png', 'shot_0004.png']
  const { fs, killed } = killedAt('link', 3)
  // It never returns: what it left is what a killed node leaves.
  await Promise.race([deliverToTarget(delivery(path.join(dir, 'out1'), await outputs(path.join(dir, 'out1'), names, 'first'), target, { attempt: { ...ATTEMPT, epoch: 1 } }), { concurrency: 1, fs }), killed])
  t.deepEqual(await recordedFrames(target), names, 'the intent is recorded before any frame moves in')
  t.deepEqual((await filesUnder(target)).filter((name) => !name.startsWith('.cr-staging-')), ['shot_0001.png', 'shot_0002.png'])
  const moved = await Promise.all(['shot_0001.png', 'shot_0002.png'].map((n) => frameAt(target, n)))

  const result = await deliverToTarget(delivery(path.join(dir, 'out2'), await outputs(path.join(dir, 'out2'), names, 'second'), target))
  t.like(result, { kind: 'delivered', kept: ['shot_0001.png', 'shot_0002.png'].map((n) => path.join(target, n)), replaced: [] })
  t.deepEqual(await Promise.all(['shot_0001.png', 'shot_0002.png'].map((n) => frameAt(target, n))), moved)
  for (const name of ['shot_0003.png', 'shot_0004.png']) t.is((await frameAt(target, name)).content, `second of ${name}`)
  t.deepEqual((await readdir(target)).sort(), [DELIVERY_RECORDS_DIR, ...names], 'the killed attempt\'s staging is swept')
})

test('a node killed while replacing another job\'s frames: the next attempt replaces every one, no stale frame is kept', async (t) => {
  const dir = await tempDir(t)
  const target = path.join(dir, 'target')
  const names = ['shot_0001.png', 'shot_0002.png', 'shot_0003.png', 'shot_0004.png']
  await writeFiles(target, Object.fromEntries(names.map((n) => [n, `old job's ${n}`])))
  const { fs, killed } = killedAt('rename', 3)
  // It never returns: what it left is what a killed node leaves.
  await Promise.race([deliverToTarget(delivery(path.join(dir, 'out1'), await outputs(path.join(dir, 'out1'), names, 'first'), target, { attempt: { ...ATTEMPT, epoch: 1 } }), { concurrency: 1, fs }), killed])
  t.is((await frameAt(target, 'shot_0003.png')).content, 'old job\'s shot_0003.png')

  const result = await deliverToTarget(delivery(path.join(dir, 'out2'), await outputs(path.join(dir, 'out2'), names, 'second'), target))
  t.like(result, { kind: 'delivered', kept: [], replaced: names.map((n) => path.join(target, n)) })
  for (const name of names) t.is((await frameAt(target, name)).content, `second of ${name}`)
  t.deepEqual(await recordedFrames(target), names)
})

for (const existing of ['keep', 'replace'] as const) {
  test(`a failed delivery puts the block's record back as it was (${existing})`, async (t) => {
    const dir = await tempDir(t)
    const target = path.join(dir, 'target')
    await deliverToTarget(delivery(path.join(dir, 'out1'), await outputs(path.join(dir, 'out1'), ['shot_0001.png', 'shot_0002.png'], 'first'), target, { attempt: { ...ATTEMPT, epoch: 1 } }))
    const before = await snapshot(target)
    const files = await outputs(path.join(dir, 'out2'), ['shot_0001.png', 'shot_0002.png', 'shot_0003.png', 'shot_0004.png'], 'second')
    // keep: frames 1 and 2 are kept, 3 links in, 4 fails; replace: 1 is renamed over, 2 fails.
    const fs = existing === 'keep' ? failing('link', 2, 'EIO', { intoTarget: true }) : failing('rename', 2, 'EIO', { intoTarget: true })
    await t.throwsAsync(deliverToTarget(delivery(path.join(dir, 'out2'), files, target, { existing }), { concurrency: 1, fs }), { name: 'TargetWriteError' })
    t.deepEqual(await snapshot(target), before, 'frames and record as they were, byte for byte')
  })
}

test('a delivery record that cannot be read lists nothing: the frames there are replaced, and it is reported', async (t) => {
  const dir = await tempDir(t)
  const target = path.join(dir, 'target')
  await writeFiles(target, { 'shot_0001.png': 'who knows', [`${DELIVERY_RECORDS_DIR}/job-1/0.json`]: '{"jobId": "job-1", "frames": ' })
  const logger = recordingLogger()
  const result = await deliverToTarget(delivery(path.join(dir, 'out'), await outputs(path.join(dir, 'out'), ['shot_0001.png']), target), { logger })
  t.like(result, { kind: 'delivered', kept: [], replaced: [path.join(target, 'shot_0001.png')] })
  t.true(logger.lines.some((line) => line.startsWith('delivery record unreadable')), logger.lines.join('\n'))
  t.deepEqual(await recordedFrames(target), ['shot_0001.png'])
})

test('a re-render asked for replaces the frames there, and a failure part-way puts the old ones back', async (t) => {
  const dir = await tempDir(t)
  const out = path.join(dir, 'out')
  const files = await outputs(out, ['shot_0001.png', 'shot_0002.png', 'shot_0003.png'])
  const target = path.join(dir, 'target')
  await writeFiles(target, { 'shot_0001.png': 'old 1', 'shot_0002.png': 'old 2', 'shot_0003.png': 'old 3' })
  const before = await snapshot(target)
  await t.throwsAsync(deliverToTarget(delivery(out, files, target, { existing: 'replace' }), { concurrency: 1, fs: failing('rename', 3, 'EIO', { intoTarget: true }) }), { name: 'TargetWriteError' })
  t.deepEqual(await snapshot(target), before, 'the replaced frames are back, the very same files')
  const result = await deliverToTarget(delivery(out, files, target, { existing: 'replace' }))
  t.like(result, { kind: 'delivered', kept: [], replaced: files.map((f) => path.join(target, f.relPath)) })
  t.is(await readFile(path.join(target, 'shot_0002.png'), 'utf8'), 'data of shot_0002.png')
  t.deepEqual((await readdir(target)).sort(), [DELIVERY_RECORDS_DIR, 'shot_0001.png', 'shot_0002.png', 'shot_0003.png'])
})

test('an earlier epoch\'s staging, left by a node that died mid-delivery, is swept; other blocks\' and later epochs\', and the delivery records, are not', async (t) => {
  const dir = await tempDir(t)
  const out = path.join(dir, 'out')
  const files = await outputs(out, ['shot_0001.png'])
  const target = path.join(dir, 'target')
  const crashed = '.cr-staging-job-1-b0-e1-0badf00d'
  const others = ['.cr-staging-job-1-b1-e1-0badf00d', '.cr-staging-job-1-b0-e3-0badf00d', '.cr-staging-job-10-b0-e1-0badf00d']
  const otherRecord = `${DELIVERY_RECORDS_DIR}/job-1/1.json`
  await writeFiles(target, { ...Object.fromEntries([crashed, ...others].map((name) => [`${name}/new/shot_0001.png`, 'half'])), [otherRecord]: 'block 1\'s record' })
  await deliverToTarget(delivery(out, files, target))
  t.deepEqual((await readdir(target)).sort(), [...others, DELIVERY_RECORDS_DIR, 'shot_0001.png'].sort())
  t.deepEqual((await readdir(path.join(target, DELIVERY_RECORDS_DIR, 'job-1'))).sort(), ['0.json', '1.json'])
  t.is(await readFile(path.join(target, otherRecord), 'utf8'), 'block 1\'s record')
})

test('an abort during the copy rolls it back', async (t) => {
  const dir = await tempDir(t)
  const out = path.join(dir, 'out')
  const files = await outputs(out, ['shot_0001.png', 'shot_0002.png', 'shot_0003.png'])
  const controller = new AbortController()
  const fs: CopyFs = { ...NODE_FS, copyFile: async (src, dest) => { await NODE_FS.copyFile(src, dest); controller.abort() } }
  const result = await deliverToTarget(delivery(out, files, path.join(dir, 'target')), { concurrency: 1, fs, signal: controller.signal })
  t.is(result.kind, 'aborted')
  t.deepEqual(await readdir(dir), ['out'])
})

test('missing frames: absent, empty, or not the job\'s image', (t) => {
  const files: OutputFile[] = [
    { relPath: 'shot_0001.png', size: 10 },
    { relPath: 'shot_0002.png', size: 0 },
    { relPath: 'other_0003.png', size: 10 },
    { relPath: 'layer/shot.diffuse.0004.exr', size: 10 },
    { relPath: 'shot_0004.png', size: 10 }
  ]
  t.deepEqual(missingFrames([1, 2, 3, 4, 5], files, 'shot'), [2, 3, 5])
})

test('scratch folders: per job, block and epoch; removed with the job folder when empty', async (t) => {
  const root = await tempDir(t)
  const task = makeTask({ software: 'procedural', scenePath: '/s', targetDir: '/t', blockIndex: 3, epoch: 7 })
  const dirs = await prepareScratch(root, task)
  t.is(dirs.blockDir, path.join(root, 'job-1', '3-7'))
  await writeFile(path.join(dirs.outputDir, 'leftover'), 'x')
  const again = await prepareScratch(root, task)
  t.deepEqual(await readdir(again.outputDir), [], 'a stale attempt is wiped')
  const other = await prepareScratch(root, { ...task, blockIndex: 4 })
  await removeScratch(again)
  t.deepEqual(await readdir(path.join(root, 'job-1')), ['4-7'])
  await removeScratch(other)
  t.deepEqual(await readdir(root), [])
})

test('start-up removes only the node\'s own leftovers: never a foreign file or another node\'s folder', async (t) => {
  const root = await tempDir(t)
  await writeFiles(root, {
    'notes.txt': 'a sysadmin\'s file in a shared folder (scratchDir = /var/tmp)',
    'nodeB/job-1/0-1/out/shot_0001.png': 'node B is rendering this',
    'nodeA/job-1/0-1/out/shot_0001.png': 'left by node A when it crashed'
  })
  await removeStaleScratch(root, 'nodeA')
  t.deepEqual(await filesUnder(root), ['nodeB/job-1/0-1/out/shot_0001.png', 'notes.txt'])
  await t.notThrowsAsync(removeStaleScratch(path.join(root, 'absent'), 'nodeA'))
  t.throws(() => nodeScratchDir(root, '..'), { instanceOf: RangeError })
})

async function proceduralScene(dir: string, frameDelayMs = 0): Promise<string> {
  const scene = path.join(dir, 'scene.json')
  await writeProceduralScene(scene, { frameDelayMs })
  return scene
}

test('two nodes on one scratch root render the same block at once, each in its own folder', async (t) => {
  const dir = await tempDir(t)
  const scene = await proceduralScene(dir, 150)
  const scratchRoot = path.join(dir, 'scratch')
  // A claim collision: both nodes render block 0 at epoch 1, the very same folder names.
  const render = (node: string): ReturnType<typeof renderBlock> => renderBlock(
    makeTask({ software: 'procedural', scenePath: scene, targetDir: path.join(dir, `target-${node}`), limits: { threads: 1, memoryMb: -1 } }),
    { scratchRoot, nodeId: node }
  )
  const [a, b] = await Promise.all([render('nodeA'), render('nodeB')])
  t.like(a, { kind: 'finished' })
  t.like(b, { kind: 'finished' })
  for (const node of ['nodeA', 'nodeB']) t.is((await filesUnder(path.join(dir, `target-${node}`))).length, 4)
  t.deepEqual((await readdir(scratchRoot)).sort(), ['nodeA', 'nodeB'])
  t.deepEqual(await filesUnder(scratchRoot), [], 'each cleaned its own block folder')
})

test('renderBlock: a copy that hits a full disk fails the block (retryable) and leaves the target as it was', async (t) => {
  const dir = await tempDir(t)
  const scene = await proceduralScene(dir)
  const target = await busyTarget(dir)
  const before = await snapshot(target)
  const result = await renderBlock(
    makeTask({ software: 'procedural', scenePath: scene, targetDir: target, limits: { threads: 1, memoryMb: -1 } }),
    { scratchRoot: path.join(dir, 'scratch'), nodeId: 'nodeA', copyFs: failing('copyFile', 2, 'ENOSPC'), copyConcurrency: 1 }
  )
  t.like(result, { kind: 'failed', failure: 'retryable', reason: 'disk-full' })
  t.deepEqual(await snapshot(target), before)
  t.deepEqual(await filesUnder(path.join(dir, 'scratch')), [])
})

test('renderBlock: a later attempt keeps the frames an earlier one delivered and says so; a retry asked for replaces them and says so', async (t) => {
  const dir = await tempDir(t)
  const scene = await proceduralScene(dir)
  const target = path.join(dir, 'target')
  const task = makeTask({ software: 'procedural', scenePath: scene, targetDir: target, limits: { threads: 1, memoryMb: -1 } })
  const first = await renderBlock(task, { scratchRoot: path.join(dir, 'scratch') })
  if (first.kind !== 'finished') return t.fail(`first attempt ${first.kind}`)
  t.deepEqual(first.kept, [])
  const delivered = await snapshot(target)

  // The node died before its block.finished: the block is claimed again at the next epoch.
  const logger = recordingLogger()
  const again = await renderBlock({ ...task, epoch: 2 }, { scratchRoot: path.join(dir, 'scratch'), logger })
  t.like(again, { kind: 'finished', outputs: first.outputs, kept: first.outputs, replaced: [] })
  t.deepEqual(await snapshot(target), delivered, 'not one frame written again')
  t.true(logger.lines.some((line) => line.startsWith('frames this block had already delivered were kept') && line.includes('"kept":4')), logger.lines.join('\n'))

  const retried = await renderBlock({ ...task, epoch: 3, replaceExisting: true }, { scratchRoot: path.join(dir, 'scratch'), logger })
  t.like(retried, { kind: 'finished', kept: [], replaced: first.outputs })
  const now = await snapshot(target)
  t.deepEqual(Object.keys(now), Object.keys(delivered))
  const frames = await filesUnder(target)
  t.is(frames.length, 4)
  t.true(frames.every((name) => now[name] !== delivered[name]), 'every frame is a new file')
  t.true(logger.lines.some((line) => line.startsWith('frames at the target replaced: a re-render was asked for') && line.includes('"replaced":4')), logger.lines.join('\n'))
})

test('renderBlock: a new job into a folder holding another job\'s frames replaces them and says how many and which', async (t) => {
  const dir = await tempDir(t)
  const scene = await proceduralScene(dir)
  const target = path.join(dir, 'target')
  const task = makeTask({ software: 'procedural', scenePath: scene, targetDir: target, limits: { threads: 1, memoryMb: -1 } })
  const v1 = await renderBlock({ ...task, jobId: 'shot-v1' }, { scratchRoot: path.join(dir, 'scratch') })
  if (v1.kind !== 'finished') return t.fail(`v1 ${v1.kind}`)
  const old = await snapshot(target)
  const logger = recordingLogger()
  const v2 = await renderBlock({ ...task, jobId: 'shot-v2' }, { scratchRoot: path.join(dir, 'scratch'), logger })
  t.like(v2, { kind: 'finished', kept: [], replaced: v1.outputs })
  const now = await snapshot(target)
  t.true((await filesUnder(target)).every((name) => now[name] !== old[name]), 'no stale frame left')
  const line = logger.lines.find((l) => l.startsWith('frames at the target replaced: they were not this block\'s'))
  t.truthy(line, logger.lines.join('\n'))
  t.true(line?.includes('"replaced":4') === true && line.includes(JSON.stringify(v1.outputs.slice(0, 4))), line)
})
