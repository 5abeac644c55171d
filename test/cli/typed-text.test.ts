/**
 * What people type is shown safely and goes where they meant, through real `cr`
 * processes against a farm: names with control characters are refused on input, and a
 * name already in the log with one (written before the rule, or forged by a key holder)
 * is printed escaped, in columns measured by display width. Relative paths are taken
 * from the directory `cr submit` runs in, with a warning for folders only this machine has.
 */
import { join } from 'node:path'
import anyTest, { type TestFn } from 'ava'
import stringWidth from 'string-width'
import type { JobView } from '../../src/protocol/view.js'
import { crAt, startCliFarm, type CliFarm as Farm } from '../fixtures/cli/cr.js'

const test = anyTest as TestFn<Farm>

test.before(async (t) => {
  t.context = await startCliFarm('shot.blend')
})

test.after.always(async (t) => {
  await t.context.bed.destroy()
})

const JOB = { project: 'feature', user: 'ann', software: 'blender', targetPath: '/renders/x', frameStart: 1, frameEnd: 2, blockSize: 1, priority: 50, classification: 'A', maxRetries: 3, enabled: true, layer: null, camera: null, imageName: null, imageFormat: null, commandTemplate: null } as const

test.serial('relative scene and target paths are taken from where cr submit runs, with a warning for this machine\'s folders', async (t) => {
  const { bed, scene } = t.context
  const result = await crAt(bed, 'relative', ['submit', '--name', 'rel', '--project', 'feature', '--software', 'blender', '--scene', 'shot.blend', '--target', 'out/rel', '--frames', '1-2', '--json'], bed.dir)
  t.is(result.exitCode, 0, result.stderr)
  const job = JSON.parse(result.stdout) as JobView
  t.is(job.scenePath, scene)
  t.is(job.targetPath, join(bed.dir, 'out/rel'))
  t.is(result.stderr, [
    `cr: warning: the scene ${scene} is in a temporary folder of this machine, which render nodes on other machines (render-01) cannot see unless it is on storage they share; submitted anyway`,
    `cr: warning: the target ${join(bed.dir, 'out/rel')} is in a temporary folder of this machine, which render nodes on other machines (render-01) cannot see unless it is on storage they share; submitted anyway`
  ].join('\n'))
  const shared = await crAt(bed, 'relative', ['submit', '--name', 'shared', '--project', 'feature', '--software', 'blender', '--scene', scene, '--allow-missing-scene', '--target', '/renders/shared', '--frames', '1-2'])
  t.is(shared.exitCode, 0)
  t.regex(shared.stderr, /^cr: warning: the scene .* is in a temporary folder of this machine/)
  t.notRegex(shared.stderr, /the target/)
})

test.serial('names already in the log with control characters are printed escaped, and wide names keep the columns', async (t) => {
  const { bed, node } = t.context
  await node.request('append', {
    bodies: [
      { type: 'job.submitted', job: { ...JOB, name: 'evil\u001b[2J\nfake', scenePath: '/projects/a.blend' } },
      { type: 'job.submitted', job: { ...JOB, name: '日本語のショット', scenePath: '/projects/b.blend' } },
      { type: 'node.settings', node: node.id, changes: { name: 'render\t01' } }
    ]
  })
  const jobs = await crAt(bed, 'viewer', ['jobs'])
  t.is(jobs.exitCode, 0, jobs.stderr)
  t.false(jobs.stdout.includes('\u001b'))
  const lines = jobs.stdout.split('\n')
  const evil = lines.find((line) => line.includes('evil'))
  t.truthy(evil?.includes('evil\\x1b[2J\\nfake'))
  // Every row's STATUS starts at the header's display column.
  const statusAt = (line: string, word: string): number => stringWidth(line.slice(0, line.indexOf(word)))
  const header = lines[0] ?? ''
  for (const line of lines.slice(1).filter((row) => row.includes('QUEUE'))) t.is(statusAt(line, 'QUEUE'), statusAt(header, 'STATUS'), line)
  const nodes = await crAt(bed, 'viewer', ['nodes'])
  t.is(nodes.exitCode, 0, nodes.stderr)
  t.regex(nodes.stdout, /^render\\t01 /m)
  // Outside the tables too: a job's own page, the log report, and what a steering command says back.
  const shortId = /^([0-9a-f]{8}) +evil/m.exec(jobs.stdout)?.[1] ?? ''
  for (const args of [['job', 'show', shortId], ['logs'], ['job', 'halt', shortId]]) {
    const shown = await crAt(bed, 'wrangler', args)
    t.is(shown.exitCode, 0, `${args.join(' ')}: ${shown.stderr}`)
    t.false(shown.stdout.includes('\u001b'), args.join(' '))
    t.true(shown.stdout.includes('evil\\x1b[2J\\nfake'), args.join(' '))
  }
})

test.serial('cr node set refuses a name with control characters and an empty class list, exit 2, naming the flag', async (t) => {
  const { bed, node } = t.context
  const named = await crAt(bed, 'wrangler', ['node', 'set', node.id, '--name', 'render\u001b[2J'])
  t.is(named.exitCode, 2)
  t.is(named.stderr, 'cr: invalid --name: node name must not hold control characters such as newline, tab or ESC; got "render\\u001b[2J"')
  const blank = await crAt(bed, 'wrangler', ['node', 'set', node.id, '--name', '  '])
  t.is(blank.exitCode, 2)
  t.is(blank.stderr, 'cr: invalid --name: node name must not be only spaces')
  const classes = await crAt(bed, 'wrangler', ['node', 'set', node.id, '--classes', ''])
  t.is(classes.exitCode, 2)
  t.is(classes.stderr, 'cr: invalid --classes: a node takes at least one class; to stop it taking work, block it (cr node block)')
})
