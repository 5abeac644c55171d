/**
 * The node's config file: the documented example loads, flags override it, and each kind
 * of mistake names its file and field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { defaultDataDir, loadNodeConfig, NodeConfigError, resolveNodeConfig } from '../../src/node/config/node-config.js'
import { SOFTWARE } from '../../src/protocol/vocabulary.js'

async function configFile (t: { teardown: (fn: () => Promise<void>) => void }, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-config-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'node.toml')
  await writeFile(file, text)
  return file
}

test('the documented example config loads as written', async (t) => {
  const config = await loadNodeConfig('docs/node.example.toml')
  t.is(config.name, 'render07')
  t.is(config.swarmKeyFile, '/etc/constellation/swarm.key')
  t.deepEqual(config.farm.classifications, ['A', 'B'])
  t.is(config.farm.workThreadLimit, 4)
  t.is(config.farm.schedule?.length, 2)
  t.is(config.render.onShutdown, 'release')
  t.is(config.render.executables.maya, '/usr/autodesk/maya2025/bin/Render')
  t.deepEqual(config.render.software, ['maya-arnold', 'maya-vray', 'blender', 'nuke', 'procedural'])
  t.false(config.render.blenderScripts)
  t.deepEqual(config.mesh.listen, ['/ip4/0.0.0.0/tcp/4001'])
})

test('flags override the file, nested fields included; the rest keeps its defaults', async (t) => {
  const file = await configFile(t, 'name = "render01"\n[farm]\nthreadLimit = 8\n')
  const config = await loadNodeConfig(file, { dataDir: '/srv/cr', farm: { memoryLimitMb: 2048 }, mesh: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
  t.like(config, { name: 'render01', dataDir: '/srv/cr', swarmKeyFile: path.join(defaultDataDir(), 'swarm.key'), farm: { threadLimit: 8, memoryLimitMb: 2048 } })
  t.deepEqual(config.mesh.listen, ['/ip4/127.0.0.1/tcp/0'])
  t.true(config.mesh.mdns.enabled)
})

test('mistakes name the file and the field', async (t) => {
  const cases: [string, RegExp][] = [
    ['name = "x"\nthreads = 4\n', /: config: .*threads/],
    ['[farm]\nthreadLimit = 0\n', /farm\.threadLimit: .*-1 \(unlimited\) or at least 1/],
    ['[farm]\nclassifications = ["a"]\n', /farm\.classifications\.0: unknown classification "a"/],
    ['[render]\nonShutdown = "panic"\n', /render\.onShutdown: must be "release" or "finish"/],
    ['[render.executables]\nhoudini = "/opt/hfs/bin/hython"\n', /render\.executables/],
    ['[render]\nsoftware = ["blender", "houdini"]\n', /render\.software\.1: unknown software "houdini"; expected one of maya-mray, .*command/],
    ['[render]\nsoftware = ["blender", "blender"]\n', /render\.software: a software is listed twice/],
    ['[render]\nsoftware = "command"\n', /render\.software: /],
    ['[render]\nblenderScripts = "yes"\n', /render\.blenderScripts: must be true or false/],
    ['[farm]\nsoftware = ["command"]\n', /: farm: .*software/],
    ['[mesh]\nbootstrapPeers = ["10.0.0.5:4001"]\n', /mesh\.bootstrapPeers\.0: must be a multiaddr/],
    ['name = \n', /line 1/]
  ]
  for (const [text, message] of cases) {
    const file = await configFile(t, text)
    const error = await t.throwsAsync(loadNodeConfig(file), { instanceOf: NodeConfigError })
    t.true(error.message.startsWith(file), error.message)
    t.regex(error.message, message)
  }
  await t.throwsAsync(loadNodeConfig('/nonexistent/node.toml'), { instanceOf: NodeConfigError, message: /cannot read it \(ENOENT\)/ })
})

test('without a file, every default is sensible', (t) => {
  const config = resolveNodeConfig({})
  t.is(config.dataDir, path.join(defaultDataDir(), 'node'))
  t.true(config.render.enabled)
  t.deepEqual(config.farm, {})
})

test('a node runs every software but `command` unless its config lists what it runs; Blender\'s scene scripts stay off', async (t) => {
  const defaults = resolveNodeConfig({})
  t.deepEqual(defaults.render.software, SOFTWARE.filter((software) => software !== 'command'))
  t.false(defaults.render.blenderScripts)
  const file = await configFile(t, '[render]\nsoftware = ["command", "procedural"]\nblenderScripts = true\n')
  const listed = await loadNodeConfig(file)
  t.deepEqual(listed.render.software, ['command', 'procedural'])
  t.true(listed.render.blenderScripts)
  t.deepEqual(resolveNodeConfig({ render: { software: [] } }).render.software, [], 'an empty list runs nothing')
})

test('the data dir follows each platform\'s convention', (t) => {
  t.is(defaultDataDir({ XDG_DATA_HOME: '/data' }, 'linux'), '/data/constellation')
  t.is(defaultDataDir({ LOCALAPPDATA: 'C:\\Users\\andrew\\AppData\\Local' }, 'win32'), 'C:\\Users\\andrew\\AppData\\Local\\Constellation')
  t.regex(defaultDataDir({}, 'darwin'), /Library\/Application Support\/Constellation$/)
})
