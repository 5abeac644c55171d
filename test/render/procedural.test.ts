import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import { PNG } from 'pngjs'
import { renderBlock } from '../../src/render/render-block.js'
import { renderRows } from '../../src/render/procedural/image.js'
import { parseProceduralScene, writeProceduralScene } from '../../src/render/procedural/scene.js'
import { filesUnder, makeTask, tempDir } from '../fixtures/render/helpers.js'

test('the built-in renderer writes real PNG frames that differ per frame, with Blender-style times', async (t) => {
  const dir = await tempDir(t)
  const scene = path.join(dir, 'scene.json')
  await writeProceduralScene(scene, { width: 64, height: 36, frameDelayMs: 20 })
  const target = path.join(dir, 'target')
  const result = await renderBlock(makeTask({ software: 'procedural', scenePath: scene, targetDir: target, frames: { start: 1, end: 3 }, limits: { threads: 3, memoryMb: 512 } }), { scratchRoot: path.join(dir, 'scratch') })
  if (result.kind !== 'finished') return t.fail(JSON.stringify(result))
  t.deepEqual(await filesUnder(target), ['shot_0001.png', 'shot_0002.png', 'shot_0003.png'])
  const images = await Promise.all(result.outputs.map(async (file) => PNG.sync.read(await readFile(file))))
  t.true(images.every((png) => png.width === 64 && png.height === 36))
  t.notDeepEqual(images[0]?.data, images[1]?.data)
  t.true(result.frames.every((f) => f.ms >= 20), 'each frame took at least its artificial delay')
  // Three threads share each frame in three bands.
  t.deepEqual(result.outputTail.filter((l) => l.startsWith('Fra:2 ')).map((l) => l.replace(/.*\| /, '')), ['Sample 1/3', 'Sample 2/3', 'Sample 3/3'])
})

test('the picture is the same for the same frame whichever band computes it', (t) => {
  const scene = parseProceduralScene('{"width":16,"height":8}')
  const whole = renderRows(scene, 5, 0, 8)
  const bands = Buffer.concat([renderRows(scene, 5, 0, 3), renderRows(scene, 5, 3, 8)])
  t.deepEqual(Buffer.from(whole), bands)
  t.notDeepEqual(Buffer.from(renderRows(scene, 6, 0, 8)), Buffer.from(whole))
})

test('a scene file it cannot read is a fatal scene error; an unknown field too', async (t) => {
  const dir = await tempDir(t)
  t.throws(() => parseProceduralScene('{"width":16,"colour":"red"}'))
  const bad = path.join(dir, 'bad.json')
  await writeFile(bad, 'not json')
  const result = await renderBlock(makeTask({ software: 'procedural', scenePath: bad, targetDir: path.join(dir, 'target') }), { scratchRoot: path.join(dir, 'scratch') })
  t.like(result, { kind: 'failed', failure: 'fatal', reason: 'scene-unreadable' })
})

test('unlimited threads (-1) reach the built-in renderer as a value, not as an option', async (t) => {
  const dir = await tempDir(t)
  const scene = path.join(dir, 'scene.json')
  await writeProceduralScene(scene, { width: 8, height: 8 })
  const task = makeTask({ software: 'procedural', scenePath: scene, targetDir: path.join(dir, 'out'), frames: { start: 1, end: 1 }, imageFormat: 'png', limits: { threads: -1, memoryMb: -1 } })
  const result = await renderBlock(task, { scratchRoot: path.join(dir, 'scratch') })
  t.is(result.kind, 'finished', JSON.stringify(result))
})
