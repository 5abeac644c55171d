/**
 * A small sample scene made by Blender's own Python: a cube turning over the frame range,
 * Cycles on the CPU at a few samples, so it renders in a fraction of a second per frame.
 * For the demo and for tests that prove the real Blender path end to end.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'

const MAKE_SCENE = `
import bpy, sys
args = sys.argv[sys.argv.index('--') + 1:]
out, samples, width, height, frame_end = args[0], int(args[1]), int(args[2]), int(args[3]), int(args[4])
bpy.ops.wm.read_factory_settings(use_empty=False)
scene = bpy.context.scene
scene.render.engine = 'CYCLES'
scene.cycles.device = 'CPU'
scene.cycles.samples = samples
# Debian's Blender is built without OpenImageDenoise.
scene.cycles.use_denoising = False
scene.render.resolution_x = width
scene.render.resolution_y = height
scene.render.resolution_percentage = 100
scene.frame_start = 1
scene.frame_end = frame_end
cube = bpy.data.objects['Cube']
cube.rotation_euler = (0, 0, 0)
cube.keyframe_insert('rotation_euler', frame=1)
cube.rotation_euler = (0, 0, 3.14)
cube.keyframe_insert('rotation_euler', frame=frame_end)
bpy.ops.wm.save_as_mainfile(filepath=out)
`

export interface BlenderSceneOptions {
  readonly samples?: number
  readonly width?: number
  readonly height?: number
  readonly frameEnd?: number
}

/** Writes `scenePath` (a .blend) with the Blender at `executable`; its helper script goes beside it. */
export async function writeBlenderSampleScene (executable: string, scenePath: string, options: BlenderSceneOptions = {}): Promise<void> {
  const dir = path.dirname(scenePath)
  const script = path.join(dir, 'make_sample_scene.py')
  await writeFile(script, MAKE_SCENE)
  const { samples = 4, width = 160, height = 90, frameEnd = 4 } = options
  await execa(executable, ['-b', '--factory-startup', '--python-exit-code', '3', '--python', script, '--', scenePath, String(samples), String(width), String(height), String(frameEnd)], {
    env: { TMPDIR: dir },
    stdin: 'ignore'
  })
}
