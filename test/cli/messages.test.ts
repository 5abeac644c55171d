/**
 * What `cr` says, and how it exits, when the data dir, the swarm key, a node's config or
 * the store is wrong: each message names what is wrong and where, input errors exit 2
 * (README's table), and nothing is left behind by a command that refused to start.
 */
import { access, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import anyTest, { type TestFn } from 'ava'
import { MeshTestbed } from '../helpers/mesh-testbed.js'
import { crAt } from '../fixtures/cli/cr.js'

const test = anyTest as TestFn<{ bed: MeshTestbed }>

test.before(async (t) => {
  t.context = { bed: await MeshTestbed.create() }
})

test.after.always(async (t) => {
  await t.context.bed.destroy()
})

test('a data dir that is a file is named as such, exit 2', async (t) => {
  const { bed } = t.context
  const file = join(bed.dir, 'not-a-dir')
  await writeFile(file, 'a file')
  const read = await crAt(bed, 'file', ['jobs', '--data-dir', file])
  t.is(read.exitCode, 2)
  t.is(read.stderr, `cr: the data directory ${file} is a file, not a directory; give --data-dir a directory (it is made if missing)`)
  const node = await crAt(bed, 'file', ['node', '--data-dir', file, '--swarm-key', bed.swarmKeyPath, '--no-mdns'])
  t.is(node.exitCode, 2)
  t.is(node.stderr, read.stderr)
})

test('a garbage or missing swarm key exits 2 and leaves no identity behind', async (t) => {
  const { bed } = t.context
  const garbage = join(bed.dir, 'garbage.key')
  await writeFile(garbage, 'not a key\n')
  const dataDir = join(bed.dir, 'fresh-node')
  const node = await crAt(bed, 'key', ['node', '--data-dir', dataDir, '--swarm-key', garbage, '--no-mdns'])
  t.is(node.exitCode, 2)
  t.is(node.stderr, `cr: invalid swarm key in ${garbage}: the first line must be /key/swarm/psk/1.0.0/`)
  await t.throwsAsync(access(dataDir), { code: 'ENOENT' })
  const missing = join(bed.dir, 'absent.key')
  const read = await crAt(bed, 'key', ['jobs', '--data-dir', dataDir, '--swarm-key', missing])
  t.is(read.exitCode, 2)
  t.is(read.stderr, `cr: no swarm key at ${missing}; create one with \`cr key generate\` and copy it to every machine of the studio`)
  await t.throwsAsync(access(dataDir), { code: 'ENOENT' })
})

test('a node config with a bad field or a name that would inject into terminals exits 2', async (t) => {
  const { bed } = t.context
  const config = join(bed.dir, 'node.toml')
  await writeFile(config, `name = "render\\u001b[2J"\ndataDir = "${join(bed.dir, 'configured')}"\nswarmKeyFile = "${bed.swarmKeyPath}"\n`)
  const named = await crAt(bed, 'config', ['node', '--config', config, '--no-mdns'])
  t.is(named.exitCode, 2)
  t.is(named.stderr, `cr: ${config}: name: node name must not hold control characters such as newline, tab or ESC; got "render\\u001b[2J"`)
  await writeFile(config, '[farm]\nclassifications = []\n')
  const classes = await crAt(bed, 'config', ['node', '--config', config, '--no-mdns'])
  t.is(classes.exitCode, 2)
  t.is(classes.stderr, `cr: ${config}: farm.classifications: a node takes at least one class; to stop it taking work, block it (cr node block)`)
  await writeFile(config, '[farm]\nmemoryLimitMb = 0\n')
  const limit = await crAt(bed, 'config', ['node', '--config', config, '--no-mdns'])
  t.is(limit.exitCode, 2)
  t.is(limit.stderr, `cr: ${config}: farm.memoryLimitMb: memory limit must be -1 (unlimited) or at least 1`)
  await t.throwsAsync(access(join(bed.dir, 'configured')), { code: 'ENOENT' })
})

test('a store LevelDB cannot open says it is not in use but unreadable or damaged, exit 3', async (t) => {
  const { bed } = t.context
  const dataDir = join(bed.dir, 'damaged')
  const store = join(dataDir, 'store')
  await mkdir(store, { recursive: true })
  // A CURRENT naming a MANIFEST that is not there: LevelDB answers only "Database failed to open".
  await writeFile(join(store, 'CURRENT'), 'MANIFEST-000009\n')
  await writeFile(join(store, 'MANIFEST-000002'), 'x')
  const read = await crAt(bed, 'damaged', ['jobs', '--data-dir', dataDir, '--timeout', '1'])
  t.is(read.exitCode, 3)
  t.is(read.stderr, `cr: store ${store} could not be opened: IO error: ${store}/MANIFEST-000009: No such file or directory. ` +
    `No other process holds it (LevelDB would have said so), so it is unreadable or damaged: check that this user may read it; if so, stop the node and run \`cr store repair --data-dir ${dataDir}\``)
})

test('a read prints its mesh records as lines a person reads, and only with --verbose', async (t) => {
  const { bed } = t.context
  const quiet = await crAt(bed, 'reader', ['jobs', '--timeout', '1'])
  t.is(quiet.exitCode, 0)
  t.is(quiet.stderr, 'cr: warning: no peer reachable within 1 s; showing this machine\'s local copy of the log, which may be out of date')
  const verbose = await crAt(bed, 'reader', ['jobs', '--timeout', '1', '--verbose'])
  t.is(verbose.exitCode, 0)
  t.regex(verbose.stderr, /^cr: info: cr: mesh started \(peer=12D3\w+, addresses=\["\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3\w+"\]\)$/m)
  t.regex(verbose.stderr, /^cr: info: cr: mesh stopped \(peer=12D3\w+\)$/m)
  t.false(verbose.stderr.split('\n').some((line) => line.startsWith('{')), verbose.stderr)
})
