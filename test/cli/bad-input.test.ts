/**
 * `cr submit` refuses bad input before it opens anything: a job file with each kind of
 * invalid field, an unreadable file, a scene that is not on this machine. Each exits 2
 * naming the field and leaves no trace (the controller's data directory is never made).
 * With no peer to reach, a read warns and shows the local copy, and a write exits 4.
 */
import { access, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import anyTest, { type TestFn } from 'ava'
import { MeshTestbed } from '../helpers/mesh-testbed.js'
import { controllerDir, crAt } from '../fixtures/cli/cr.js'

const test = anyTest as TestFn<{ bed: MeshTestbed, scene: string }>

test.before(async (t) => {
  const bed = await MeshTestbed.create()
  const scene = join(bed.dir, 'shot.blend')
  await writeFile(scene, 'a scene')
  t.context = { bed, scene }
})

test.after.always(async (t) => {
  await t.context.bed.destroy()
})

const VALID = {
  name: 'shot030', project: 'feature', software: 'blender', targetPath: '/renders/shot030',
  frameStart: 1, frameEnd: 10, blockSize: 2, priority: 50, classification: 'A'
}

/** [what is wrong, the job file's fields, what the error must say] */
const INVALID: readonly [string, Record<string, unknown>, RegExp][] = [
  ['unknown software', { software: 'houdini' }, /invalid software: unknown software "houdini"/],
  ['priority out of range', { priority: 120 }, /invalid priority: priority 120 is above 99/],
  ['frames backwards', { frameStart: 10, frameEnd: 1 }, /invalid frameEnd: frame end 1 is before frame start 10/],
  ['block size zero', { blockSize: 0 }, /invalid blockSize: block size 0 is below 1/],
  ['unknown class', { classification: 'a' }, /invalid classification: unknown classification "a"/],
  ['bad image format', { imageFormat: 'PNG!' }, /invalid imageFormat: image format must be a short lower-case extension/],
  ['a field of the wrong type', { frameStart: 'one' }, /invalid frameStart: frame must be a whole number/],
  ['a required field missing', { name: undefined }, /^cr: --name is required$/],
  ['a name with a screen-clearing escape', { name: 'shot\u001b[2J' }, /^cr: invalid name: name must not hold control characters such as newline, tab or ESC; got "shot\\u001b\[2J"$/],
  ['a project with a newline', { project: 'feature\nfake line' }, /^cr: invalid project: project must not hold control characters such as newline, tab or ESC; got "feature\\nfake line"$/],
  ['a user with a C1 control', { user: 'ann\u009b2J' }, /^cr: invalid user: user must not hold control characters/],
  ['a name of spaces', { name: '   ' }, /^cr: invalid name: name must not be only spaces$/],
  ['an unknown placeholder in a command template', { software: 'command', commandTemplate: ['render', '{scene}', '-o', '{outdir}/{bogus}'] },
    /^cr: invalid commandTemplate: unknown placeholder \{bogus\}; the placeholders are \{scene\} \{outdir\} \{image\} \{format\} \{threads\} \{layer\} \{camera\} \{frame\} \{start\} \{end\} \{step\} \{frames\} \(and \{frame:4\} to pad\)$/],
  ['an empty field', { project: '' }, /invalid project: project must not be empty/],
  ['an unknown field', { colour: 'blue' }, /invalid colour: not a job field/],
  ['negative retries', { maxRetries: -1 }, /invalid maxRetries: max retries -1 is below 0/],
  ['a command template for a renderer', { commandTemplate: ['render', '{scene}'] }, /invalid commandTemplate: a command template is only for software "command"/]
]

for (const [what, fields, message] of INVALID) {
  test(`a job file with ${what} exits 2 naming the field, and writes nothing`, async (t) => {
    const { bed, scene } = t.context
    const file = join(bed.dir, `${what.replaceAll(' ', '-')}.json`)
    await writeFile(file, JSON.stringify({ ...VALID, scenePath: scene, ...fields }))
    const controller = `bad-${what.replaceAll(' ', '-')}`
    const result = await crAt(bed, controller, ['submit', '--file', file])
    t.is(result.exitCode, 2, result.stderr)
    t.regex(result.stderr, message)
    t.is(result.stdout, '')
    await t.throwsAsync(access(controllerDir(bed, controller)))
  })
}

test('every invalid field is reported at once, each named as it was given', async (t) => {
  const { bed, scene } = t.context
  const file = join(bed.dir, 'three-wrong.json')
  await writeFile(file, JSON.stringify({ ...VALID, scenePath: scene, priority: 120, blockSize: 0, colour: 'blue' }))
  const result = await crAt(bed, 'three-wrong', ['submit', '--file', file, '--max-retries', '-2'])
  t.is(result.exitCode, 2)
  t.is(result.stderr, [
    'cr: 4 job fields are invalid:',
    '  invalid colour: not a job field; expected one of name, project, user, software, scenePath, targetPath, frameStart, frameEnd, blockSize, layer, camera, imageName, imageFormat, commandTemplate, priority, classification, maxRetries, enabled, timeoutPerFrameS',
    '  invalid blockSize: block size 0 is below 1',
    '  invalid priority: priority 120 is above 99',
    '  invalid maxRetries (--max-retries): max retries -2 is below 0'
  ].join('\n'))
  t.is(result.stdout, '')
  await t.throwsAsync(access(controllerDir(bed, 'three-wrong')))
})

test('a missing --name says so, and --classes-like blanks are refused', async (t) => {
  const { bed, scene } = t.context
  const result = await crAt(bed, 'no-name', ['submit', '--project', 'feature', '--software', 'blender', '--scene', scene, '--target', '/renders/x', '--frames', '1-2'])
  t.is(result.exitCode, 2)
  t.is(result.stderr, 'cr: --name is required')
  const blank = await crAt(bed, 'no-name', ['submit', '--name', ' \t', '--project', 'feature', '--software', 'blender', '--scene', scene, '--target', '/renders/x', '--frames', '1-2'])
  t.is(blank.exitCode, 2)
  t.is(blank.stderr, [
    'cr: 2 job fields are invalid:',
    '  invalid name (--name): name must not be only spaces',
    '  invalid name (--name): name must not hold control characters such as newline, tab or ESC; got " \\t"'
  ].join('\n'))
  const noClass = await crAt(bed, 'no-name', ['submit', '--name', 'x', '--class', '', '--project', 'feature', '--software', 'blender', '--scene', scene, '--target', '/renders/x', '--frames', '1-2'])
  t.is(noClass.exitCode, 2)
  t.is(noClass.stderr, 'cr: invalid classification (--class): unknown classification ""; expected one of A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P, Q, R, S, T, U, V, W, X, Y, Z')
  await t.throwsAsync(access(controllerDir(bed, 'no-name')))
})

test('flags are checked like a file, naming the flag too', async (t) => {
  const { bed, scene } = t.context
  const result = await crAt(bed, 'flags', ['submit', '--file', 'test/fixtures/cli/job.toml', '--scene', scene, '--frames', '9-3'])
  t.is(result.exitCode, 2)
  t.regex(result.stderr, /invalid frameEnd \(--frames\): frame end 3 is before frame start 9/)
  const garbled = await crAt(bed, 'flags', ['submit', '--file', 'test/fixtures/cli/job.toml', '--scene', scene, '--frames', 'all'])
  t.is(garbled.exitCode, 2)
  t.regex(garbled.stderr, /--frames: must be START-END/)
  await t.throwsAsync(access(controllerDir(bed, 'flags')))
})

test('a scene that is not on this machine exits 2 unless allowed; an unreadable job file exits 2', async (t) => {
  const { bed } = t.context
  const missing = await crAt(bed, 'scene', ['submit', '--file', 'test/fixtures/cli/job.toml'])
  t.is(missing.exitCode, 2)
  t.regex(missing.stderr, /scene not found: \/projects\/feature\/shot020\.blend/)
  const notToml = join(bed.dir, 'broken.toml')
  await writeFile(notToml, 'name = "unterminated\n')
  const broken = await crAt(bed, 'scene', ['submit', '--file', notToml])
  t.is(broken.exitCode, 2)
  t.regex(broken.stderr, /job file .*broken\.toml: not TOML at line 1/)
  const absent = await crAt(bed, 'scene', ['submit', '--file', join(bed.dir, 'absent.json')])
  t.is(absent.exitCode, 2)
  t.regex(absent.stderr, /cannot read it \(ENOENT\)/)
  await t.throwsAsync(access(controllerDir(bed, 'scene')))
})

test('with no peer in reach a read warns and shows the local copy, and a write exits 4', async (t) => {
  const { bed, scene } = t.context
  const read = await crAt(bed, 'alone', ['jobs', '--timeout', '1'])
  t.is(read.exitCode, 0)
  t.regex(read.stderr, /warning: no peer reachable within 1 s; showing this machine's local copy/)
  t.regex(read.stdout, /^ID +NAME +STATUS/)
  const write = await crAt(bed, 'alone', ['submit', '--file', 'test/fixtures/cli/job.toml', '--scene', scene, '--timeout', '1'])
  t.is(write.exitCode, 4)
  t.regex(write.stderr, /no peer was reachable within 1 s, so nothing was written/)
})
