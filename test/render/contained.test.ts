import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import { copyToTarget, listOutputs, missingFrames, NODE_FS, prepareScratch, removeScratch, removeStaleScratch } from '../../src/render/contained.js'
import type { CopyFs, OutputFile } from '../../src/render/contained.js'
import { renderBlock } from '../../src/render/render-block.js'
import { writeProceduralScene } from '../../src/render/procedural/scene.js'
import { filesUnder, makeTask, tempDir } from '../fixtures/render/helpers.js'

/** Real file operations, except that the nth call of one of them fails with an errno code. */
function failing(operation: 'copyFile' | 'rename', nth: number, code: string): CopyFs {
  let calls = 0
  const fail = (): never => { throw Object.assign(new Error(`${code}: injected`), { code }) }
  return {
    ...NODE_FS,
    copyFile: async (src, dest) => {
      if (operation === 'copyFile' && ++calls === nth) {
        // Half a file, as a full disk leaves it.
        await writeFile(dest, 'partial')
        fail()
      }
      await NODE_FS.copyFile(src, dest)
    },
    rename: async (from, to) => {
      if (operation === 'rename' && ++calls === nth) fail()
      await NODE_FS.rename(from, to)
    }
  }
}

async function outputs(dir: string, names: string[]): Promise<OutputFile[]> {
  for (const name of names) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true })
    await writeFile(path.join(dir, name), `data of ${name}`)
  }
  return listOutputs(dir)
}

test('outputs are copied with their folders, and only final names are ever left', async (t) => {
  const dir = await tempDir(t)
  const out = path.join(dir, 'out')
  const files = await outputs(out, ['shot_0001.exr', 'shot_0002.exr', 'beauty/shot_0001.exr'])
  const target = path.join(dir, 'target', 'deep')
  const result = await copyToTarget(out, files, target, { concurrency: 2 })
  t.is(result.kind, 'copied')
  t.deepEqual(await filesUnder(target), ['beauty/shot_0001.exr', 'shot_0001.exr', 'shot_0002.exr'])
  t.is(await readFile(path.join(target, 'beauty/shot_0001.exr'), 'utf8'), 'data of beauty/shot_0001.exr')
})

test('a full disk part-way leaves nothing of the block at the target, and says so', async (t) => {
  const dir = await tempDir(t)
  const out = path.join(dir, 'out')
  const files = await outputs(out, ['shot_0001.png', 'shot_0002.png', 'shot_0003.png', 'layer/shot_0001.png'])
  const target = path.join(dir, 'target')
  await mkdir(target)
  await writeFile(path.join(target, 'earlier.txt'), 'not ours')
  const error = await t.throwsAsync(copyToTarget(out, files, target, { concurrency: 1, fs: failing('copyFile', 3, 'ENOSPC') }), { name: 'TargetWriteError' })
  t.like(error, { reason: 'disk-full', code: 'ENOSPC' })
  t.deepEqual(await readdir(target), ['earlier.txt'], 'no temporary file, no frame, no folder made for the block')
})

test('a permission error on rename removes the temporary files', async (t) => {
  const dir = await tempDir(t)
  const out = path.join(dir, 'out')
  const files = await outputs(out, ['shot_0001.png', 'shot_0002.png'])
  const target = path.join(dir, 'target')
  const error = await t.throwsAsync(copyToTarget(out, files, target, { fs: failing('rename', 1, 'EACCES') }), { name: 'TargetWriteError' })
  t.like(error, { reason: 'target-permission' })
  t.deepEqual(await filesUnder(target), [])
})

test('an abort during the copy rolls it back', async (t) => {
  const dir = await tempDir(t)
  const out = path.join(dir, 'out')
  const files = await outputs(out, ['shot_0001.png', 'shot_0002.png', 'shot_0003.png'])
  const controller = new AbortController()
  const fs: CopyFs = { ...NODE_FS, copyFile: async (src, dest) => { await NODE_FS.copyFile(src, dest); controller.abort() } }
  const result = await copyToTarget(out, files, path.join(dir, 'target'), { concurrency: 1, fs, signal: controller.signal })
  t.is(result.kind, 'aborted')
  t.deepEqual(await filesUnder(path.join(dir, 'target')), [])
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

test('scratch folders: per job, block and epoch; removed with the job folder when empty; swept at start-up', async (t) => {
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
  await prepareScratch(root, task)
  await removeStaleScratch(root)
  t.deepEqual(await readdir(root), [])
  await t.notThrowsAsync(removeStaleScratch(path.join(root, 'absent')))
})

test('renderBlock: a copy that hits a full disk fails the block (retryable) and leaves no partial frame', async (t) => {
  const dir = await tempDir(t)
  const scene = path.join(dir, 'scene.json')
  await writeProceduralScene(scene)
  const target = path.join(dir, 'target')
  const result = await renderBlock(
    makeTask({ software: 'procedural', scenePath: scene, targetDir: target, limits: { threads: 1, memoryMb: -1 } }),
    { scratchRoot: path.join(dir, 'scratch'), copyFs: failing('copyFile', 2, 'ENOSPC'), copyConcurrency: 1 }
  )
  t.like(result, { kind: 'failed', failure: 'retryable', reason: 'disk-full' })
  t.deepEqual(await filesUnder(target), [])
  t.deepEqual(await readdir(path.join(dir, 'scratch')), [])
})
