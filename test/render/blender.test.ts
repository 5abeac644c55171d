/**
 * Real Blender, end to end: a tiny Cycles scene made with Blender's own Python, rendered
 * through the adapter with contained render. CI installs Blender (.ci/run); without it these
 * tests say so and pass.
 */
import { access, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { execa } from 'execa'
import { PNG } from 'pngjs'
import { writeBlenderSampleScene } from '../../src/render/blender-scene.js'
import { findExecutable } from '../../src/render/discovery.js'
import { renderBlock } from '../../src/render/render-block.js'
import { filesUnder, makeTask, tempDir } from '../fixtures/render/helpers.js'

const blender = await findExecutable('blender', undefined).catch(() => undefined)

/** A 160x90 Cycles scene of frames 1-4 with the given samples per pixel. */
async function makeScene(t: ExecutionContext, executable: string, samples: number): Promise<string> {
  const scene = path.join(await tempDir(t), 'scene.blend')
  await writeBlenderSampleScene(executable, scene, { samples })
  return scene
}

const withBlender = blender === undefined ? test.skip : test
// The happy path is proven by the real renderer: without it the suite fails, it does not pass quietly.
if (blender === undefined) test('Blender is installed for the real-Blender tests', (t) => { t.fail('no blender executable found: install it (apt-get install blender; .ci/run does)') })

withBlender('Blender renders frames 1-4 through the adapter into 4 valid PNGs at the target', async (t) => {
  const scene = await makeScene(t, blender ?? '', 4)
  const dir = await tempDir(t)
  const target = path.join(dir, 'target')
  const scratch = path.join(dir, 'scratch')
  const result = await renderBlock(makeTask({ software: 'blender', scenePath: scene, targetDir: target, imageFormat: 'png', limits: { threads: 2, memoryMb: 1024 } }), { scratchRoot: scratch })
  if (result.kind !== 'finished') return t.fail(JSON.stringify(result))
  t.deepEqual(await filesUnder(target), ['shot_0001.png', 'shot_0002.png', 'shot_0003.png', 'shot_0004.png'])
  for (const file of result.outputs) {
    const png = PNG.sync.read(await readFile(file))
    t.is(png.width, 160)
    t.is(png.height, 90)
  }
  t.deepEqual(result.frames.map((f) => f.frame), [1, 2, 3, 4])
  t.deepEqual(await readdir(scratch), [])
})

withBlender('Blender with a missing scene fails fatally', async (t) => {
  const dir = await tempDir(t)
  const result = await renderBlock(makeTask({ software: 'blender', scenePath: path.join(dir, 'missing.blend'), targetDir: path.join(dir, 'target') }), { scratchRoot: path.join(dir, 'scratch') })
  t.like(result, { kind: 'failed', failure: 'fatal', reason: 'scene-missing' })
})

withBlender('Blender killed mid-way leaves no partial frame at the target and no scratch', async (t) => {
  // More samples, so that frames take long enough to be caught in the middle.
  const scene = await makeScene(t, blender ?? '', 64)
  const dir = await tempDir(t)
  const target = path.join(dir, 'target')
  const scratch = path.join(dir, 'scratch')
  const controller = new AbortController()
  const result = await renderBlock(
    makeTask({ software: 'blender', scenePath: scene, targetDir: target, limits: { threads: 1, memoryMb: -1 } }),
    {
      scratchRoot: scratch,
      signal: controller.signal,
      // Stop as soon as the first frame is on the scratch disk: the block is half done.
      onProgress: (p) => {
        if (p.kind === 'frame') controller.abort(new Error('halted by the wrangler'))
      }
    }
  )
  t.like(result, { kind: 'aborted', message: 'halted by the wrangler' })
  t.deepEqual(await filesUnder(target), [])
  t.deepEqual(await readdir(scratch), [])
})

/** Adds to `scene` a registered text block (it runs when the scene loads, if allowed) that writes `marker`. */
async function addOnLoadScript(executable: string, scene: string, marker: string): Promise<void> {
  const script = path.join(path.dirname(scene), 'add_on_load_script.py')
  await writeFile(script, [
    'import bpy, sys',
    "scene, marker = sys.argv[sys.argv.index('--') + 1:]",
    "text = bpy.data.texts.new('on_load.py')",
    "text.write('open(%r, \"w\").write(\"ran\")\\n' % marker)",
    'text.use_module = True',
    'bpy.ops.wm.save_as_mainfile(filepath=scene)'
  ].join('\n'))
  await execa(executable, ['-b', scene, '--python-exit-code', '3', '--python', script, '--', scene, marker], { stdin: 'ignore' })
}

withBlender('a scene\'s own Python runs only where the node allows Blender scene scripts', async (t) => {
  const executable = blender ?? ''
  const scene = path.join(await tempDir(t), 'scripted.blend')
  await writeBlenderSampleScene(executable, scene, { samples: 1, width: 16, height: 9, frameEnd: 1 })
  const dir = await tempDir(t)
  const ran = async (marker: string): Promise<boolean> => access(marker).then(() => true, () => false)
  for (const allowed of [false, true]) {
    const marker = path.join(dir, `ran-${allowed}`)
    await addOnLoadScript(executable, scene, marker)
    t.false(await ran(marker), 'saving the scene ran nothing')
    const result = await renderBlock(
      makeTask({ software: 'blender', scenePath: scene, targetDir: path.join(dir, `target-${allowed}`), frames: { start: 1, end: 1 }, blenderScripts: allowed }),
      { scratchRoot: path.join(dir, 'scratch') }
    )
    t.is(result.kind, 'finished', JSON.stringify(result))
    t.is(await ran(marker), allowed, allowed ? 'allowed: the script ran on load' : 'by default: the script did not run')
  }
})
