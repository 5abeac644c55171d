import test from 'ava'
import { adapterFor } from '../../src/render/adapters/index.js'
import { splitWords } from '../../src/render/adapters/command.js'
import { sceneForFrame } from '../../src/render/adapters/kick.js'
import { vrayFrameList } from '../../src/render/adapters/vray.js'
import type { PlanContext } from '../../src/render/adapters/types.js'
import type { RenderTask } from '../../src/render/task.js'
import { SOFTWARE } from '../../src/protocol/vocabulary.js'
import type { Software } from '../../src/protocol/vocabulary.js'

const WIN_OUT = 'D:\\scratch\\job-1\\0-1\\out'
const WIN_SUPPORT = 'D:\\scratch\\job-1\\0-1\\support'
const LINUX_OUT = '/var/tmp/cr/job-1/0-1/out'

function windows(executable: string, frames: number[] = [1, 2, 3, 4]): PlanContext {
  return { executable, outputDir: WIN_OUT, supportDir: WIN_SUPPORT, frames, platform: 'win32', env: {} }
}

function linux(executable: string, frames: number[] = [1, 2, 3, 4], env: Record<string, string> = {}): PlanContext {
  return { executable, outputDir: LINUX_OUT, supportDir: '/var/tmp/cr/job-1/0-1/support', frames, platform: 'linux', env }
}

function task(software: Software, fields: Partial<RenderTask> = {}): RenderTask {
  return {
    jobId: 'job-1',
    blockIndex: 0,
    epoch: 1,
    software,
    scenePath: 'C:\\Users\\andrew.willis\\Desktop\\localTestRender.ma',
    targetDir: '\\\\server\\renders\\shot',
    frames: { start: 1, end: 4 },
    imageName: 'test',
    limits: { threads: 8, memoryMb: -1 },
    ...fields
  }
}

const MAYA_EXE = 'C:\\Program Files\\Autodesk\\Maya2013.5\\bin\\Render.exe'

test('the seed\'s Maya line, on Windows, with every renderer and its own thread flag', (t) => {
  const tail = ['-rd', WIN_OUT, '-im', 'test', '-fnc', 'name_#.ext']
  const cases: [Software, string[]][] = [
    ['maya-mray', ['-r', 'mr', '-s', '1', '-e', '4', '-b', '1', ...tail, '-rt', '8']],
    ['maya-vray', ['-r', 'vray', '-s', '1', '-e', '4', '-b', '1', ...tail, '-threads', '8']],
    ['maya-arnold', ['-r', 'arnold', '-s', '1', '-e', '4', '-b', '1', ...tail, '-ai:threads', '8']],
    ['maya-hardware', ['-r', 'hw2', '-s', '1', '-e', '4', '-b', '1', ...tail]],
    ['maya-software', ['-r', 'sw', '-s', '1', '-e', '4', '-b', '1', ...tail, '-n', '8']]
  ]
  for (const [software, args] of cases) {
    const plan = adapterFor(software).plan(task(software), windows(MAYA_EXE))
    t.deepEqual(plan.invocations, [{ file: MAYA_EXE, args: [...args, 'C:\\Users\\andrew.willis\\Desktop\\localTestRender.ma'], frames: [1, 2, 3, 4] }], software)
    t.deepEqual(plan.scenes, ['C:\\Users\\andrew.willis\\Desktop\\localTestRender.ma'])
  }
})

test('Maya with layer, camera, project, format, unlimited threads and an irregular block', (t) => {
  const plan = adapterFor('maya-software').plan(
    task('maya-software', { layer: 'beauty', camera: 'shotCam', projectDir: '/projects/fire', imageFormat: 'exr', scenePath: '/projects/fire/scenes/shot.mb', limits: { threads: -1, memoryMb: -1 } }),
    linux('/usr/autodesk/maya2024/bin/Render', [1, 2, 3, 10])
  )
  const common = ['-rl', 'beauty', '-cam', 'shotCam', '-proj', '/projects/fire', '-rd', LINUX_OUT, '-im', 'test', '-fnc', 'name_#.ext', '-of', 'exr', '/projects/fire/scenes/shot.mb']
  t.deepEqual(plan.invocations.map((i) => i.args), [
    ['-r', 'sw', '-s', '1', '-e', '3', '-b', '1', ...common],
    ['-r', 'sw', '-s', '10', '-e', '10', '-b', '1', ...common]
  ])
  t.deepEqual(plan.invocations.map((i) => i.frames), [[1, 2, 3], [10]])
})

test('Nuke: -x, -F ranges, -X write node, -m threads, and an init.py that contains the Write nodes', (t) => {
  const plan = adapterFor('nuke').plan(
    task('nuke', { scenePath: '/comp/shot.nk', writeNode: 'Write1', imageFormat: 'exr' }),
    linux('/usr/local/Nuke13.2v4/Nuke13.2', [1, 2, 3, 4, 7, 9], { NUKE_PATH: '/studio/nuke' })
  )
  t.deepEqual(plan.invocations, [{
    file: '/usr/local/Nuke13.2v4/Nuke13.2',
    args: ['-x', '-V', '2', '-m', '8', '-F', '1-4', '-F', '7-9x2', '-X', 'Write1', '/comp/shot.nk'],
    env: { NUKE_PATH: '/var/tmp/cr/job-1/0-1/support:/studio/nuke' },
    frames: [1, 2, 3, 4, 7, 9]
  }])
  const init = plan.supportFiles[0]
  t.is(init?.name, 'init.py')
  t.true(init?.content.includes(`_OUT = "${LINUX_OUT}"`))
  t.true(init?.content.includes('_WRITE = "Write1"'))
  t.true(init?.content.includes('nuke.addOnScriptLoad(_cr_contain_writes)'))
})

test('Nuke on Windows: NUKE_PATH uses ; and paths stay Windows paths', (t) => {
  const plan = adapterFor('nuke').plan(task('nuke', { scenePath: 'N:\\comp\\shot.nk' }), { ...windows('C:\\Program Files\\Nuke13.2v4\\Nuke13.2.exe'), env: { NUKE_PATH: 'N:\\pipeline\\nuke' } })
  t.deepEqual(plan.invocations[0]?.args, ['-x', '-V', '2', '-m', '8', '-F', '1-4', 'N:\\comp\\shot.nk'])
  t.deepEqual(plan.invocations[0]?.env, { NUKE_PATH: `${WIN_SUPPORT};N:\\pipeline\\nuke` })
  t.true(plan.supportFiles[0]?.content.includes(JSON.stringify(WIN_OUT)))
})

test('Blender: -b -Y --python-exit-code before the scene, output and threads before -a', (t) => {
  const plan = adapterFor('blender').plan(task('blender', { scenePath: '/shots/a.blend', imageFormat: 'png' }), linux('/usr/bin/blender'))
  t.deepEqual(plan.invocations, [{
    file: '/usr/bin/blender',
    args: ['-b', '-Y', '--python-exit-code', '86', '/shots/a.blend', '-o', `${LINUX_OUT}/test_####`, '-F', 'PNG', '-x', '1', '-t', '8', '-s', '1', '-e', '4', '-j', '1', '-a'],
    frames: [1, 2, 3, 4]
  }])
})

test('Blender on Windows with camera and view layer set by Python after the scene loads', (t) => {
  const plan = adapterFor('blender').plan(
    task('blender', { scenePath: 'C:\\shots\\a.blend', imageFormat: 'exr', camera: 'Cam.001', layer: 'FG', limits: { threads: -1, memoryMb: -1 } }),
    windows('C:\\Program Files\\Blender Foundation\\Blender 3.6\\blender.exe', [5, 7, 9])
  )
  const args = plan.invocations[0]?.args ?? []
  t.deepEqual(args.slice(0, 6), ['-b', '-Y', '--python-exit-code', '86', 'C:\\shots\\a.blend', '--python-expr'])
  t.is(args[6], [
    'import bpy',
    'bpy.context.scene.camera = bpy.data.objects["Cam.001"]',
    'assert "FG" in bpy.context.scene.view_layers, \'no view layer \' + "FG"',
    'for layer in bpy.context.scene.view_layers: layer.use = layer.name == "FG"'
  ].join('\n'))
  t.deepEqual(args.slice(7), ['-o', `${WIN_OUT}\\test_####`, '-F', 'OPEN_EXR', '-x', '1', '-s', '5', '-e', '9', '-j', '2', '-a'])
})

test('Blender runs a scene\'s own scripts only when the node allows it: -Y by default, -y when allowed, before the scene', (t) => {
  const argsWith = (fields: Partial<RenderTask>): readonly string[] =>
    adapterFor('blender').plan(task('blender', { scenePath: '/shots/a.blend', ...fields }), linux('/usr/bin/blender')).invocations[0]?.args ?? []
  for (const [fields, flag] of [[{}, '-Y'], [{ blenderScripts: false }, '-Y'], [{ blenderScripts: true }, '-y']] as const) {
    const args = argsWith(fields)
    t.is(args[1], flag, JSON.stringify(fields))
    t.false(args.includes(flag === '-Y' ? '-y' : '-Y'))
    t.true(args.indexOf(flag) < args.indexOf('/shots/a.blend'), 'Blender reads the flag before it loads the scene')
  }
})

test('Arnold kick: one run per frame, per-frame .ass files, threads, camera', (t) => {
  const plan = adapterFor('arnold-kick').plan(task('arnold-kick', { scenePath: '/ass/shot.####.ass', camera: 'persp' }), linux('/opt/arnold/bin/kick', [9, 10]))
  t.deepEqual(plan.invocations, [9, 10].map((f) => ({
    file: '/opt/arnold/bin/kick',
    args: ['-i', `/ass/shot.00${f === 9 ? '09' : '10'}.ass`, '-o', `${LINUX_OUT}/test.00${f === 9 ? '09' : '10'}.exr`, '-c', 'persp', '-t', '8', '-dw', '-dp', '-nstdin', '-v', '2'],
    frames: [f]
  })))
  t.deepEqual(plan.scenes, ['/ass/shot.0009.ass', '/ass/shot.0010.ass'])
})

test('Arnold kick on Windows with one .ass for all frames', (t) => {
  const plan = adapterFor('arnold-kick').plan(task('arnold-kick', { scenePath: 'S:\\ass\\shot.ass', imageFormat: 'tif' }), windows('C:\\Program Files\\Autodesk\\Arnold\\maya2024\\bin\\kick.exe', [3]))
  t.deepEqual(plan.invocations[0]?.args, ['-i', 'S:\\ass\\shot.ass', '-o', `${WIN_OUT}\\test.0003.tif`, '-t', '8', '-set', 'options.frame', '3', '-dw', '-dp', '-nstdin', '-v', '2'])
})

test('V-Ray standalone: one run for the block, its frame list, threads', (t) => {
  const plan = adapterFor('vray-standalone').plan(task('vray-standalone', { scenePath: 'V:\\scenes\\shot.vrscene' }), windows('C:\\Program Files\\Autodesk\\Maya2024\\vray\\bin\\vray.exe', [1, 2, 3, 4, 8]))
  t.deepEqual(plan.invocations[0]?.args, ['-sceneFile=V:\\scenes\\shot.vrscene', `-imgFile=${WIN_OUT}\\test.exr`, '-frames=1-4,8', '-display=0', '-autoClose=1', '-verboseLevel=3', '-numThreads=8'])
})

test('the generic command: placeholders, quoting, and one run per frame, per run or per block', (t) => {
  const command = adapterFor('command')
  const perFrame = command.plan(task('command', { scenePath: '/s/a b.pov', commandTemplate: 'povray "+I{scene}" +O{outdir}/{image}_{frame:4}.png +WT{threads}' }), linux('', [1, 2]))
  t.deepEqual(perFrame.invocations, [1, 2].map((f) => ({ file: 'povray', args: ['+I/s/a b.pov', `+O${LINUX_OUT}/test_000${f}.png`, '+WT8'], frames: [f] })))
  t.deepEqual(perFrame.scenes, ['/s/a b.pov'])

  const perRun = command.plan(task('command', { commandTemplate: "'C:\\Program Files\\Tool\\render.exe' -s {start} -e {end} -o {outdir}" }), windows('', [1, 2, 3, 7]))
  t.deepEqual(perRun.invocations.map((i) => [i.file, ...i.args]), [
    ['C:\\Program Files\\Tool\\render.exe', '-s', '1', '-e', '3', '-o', WIN_OUT],
    ['C:\\Program Files\\Tool\\render.exe', '-s', '7', '-e', '7', '-o', WIN_OUT]
  ])
  t.deepEqual(perRun.scenes, [])

  const perBlock = command.plan(task('command', { commandTemplate: 'tool --frames {frames} --threads {threads}', limits: { threads: -1, memoryMb: -1 } }), linux('', [1, 2, 3]))
  t.deepEqual(perBlock.invocations, [{ file: 'tool', args: ['--frames', '1,2,3', '--threads', '0'], frames: [1, 2, 3] }])
})

test('the generic command refuses an unknown placeholder, a missing value or template, and open quotes', (t) => {
  const plan = (commandTemplate?: string): unknown => adapterFor('command').plan(task('command', commandTemplate === undefined ? {} : { commandTemplate }), linux(''))
  t.throws(() => plan('tool {nonsense}'), { name: 'UnsupportedOptionError', message: /\{nonsense\}/ })
  t.throws(() => plan('tool --cam {camera}'), { name: 'UnsupportedOptionError', message: /\{camera\}/ })
  t.throws(() => plan(undefined), { name: 'UnsupportedOptionError', message: /no command template/ })
  t.throws(() => plan('tool "open'), { name: 'UnsupportedOptionError', message: /unterminated/ })
})

test('splitWords splits like a shell would, without any other shell syntax', (t) => {
  t.deepEqual(splitWords(`a  "b c" 'd "e"' f\\ g "h\\"i" $HOME;`), ['a', 'b c', 'd "e"', 'f g', 'h"i', '$HOME;'])
  t.deepEqual(splitWords('x ""'), ['x', ''])
})

test('procedural: the farm\'s own node runs the built-in renderer script', (t) => {
  const plan = adapterFor('procedural').plan(task('procedural', { scenePath: '/s/scene.json' }), linux(process.execPath, [1, 2]))
  const args = plan.invocations[0]?.args ?? []
  t.is(plan.invocations[0]?.file, process.execPath)
  t.regex(args.find((a) => a.includes('renderer.')) ?? '', /procedural[\\/]renderer\.(ts|js)$/)
  t.deepEqual(args.slice(-9), ['--scene', '/s/scene.json', '--out', LINUX_OUT, '--name', 'test', '--frames', '1,2', '--threads=8'])
})

test('adapters refuse options their renderer cannot honour', (t) => {
  t.throws(() => adapterFor('procedural').plan(task('procedural', { imageFormat: 'exr' }), linux('node')), { name: 'UnsupportedOptionError' })
  t.throws(() => adapterFor('nuke').plan(task('nuke', { camera: 'cam' }), linux('nuke')), { name: 'UnsupportedOptionError' })
  t.throws(() => adapterFor('arnold-kick').plan(task('arnold-kick', { layer: 'fg' }), linux('kick')), { name: 'UnsupportedOptionError' })
  t.throws(() => adapterFor('vray-standalone').plan(task('vray-standalone', { layer: 'fg' }), linux('vray')), { name: 'UnsupportedOptionError' })
})

test('every software has an adapter', (t) => {
  for (const software of SOFTWARE) t.is(adapterFor(software).software, software)
})

test('frame helpers: kick scene names and V-Ray frame lists', (t) => {
  t.is(sceneForFrame('/a/shot.####.ass', 7), '/a/shot.0007.ass')
  t.is(sceneForFrame('/a/shot.##.ass', -3), '/a/shot.-3.ass')
  t.is(vrayFrameList([1, 2, 3, 5, 7, 9, 10]), '1-3,5,7,9,10')
})
