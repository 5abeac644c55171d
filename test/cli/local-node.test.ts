/**
 * `cr` on a machine that runs a render node: a read is answered by the node's live copy
 * over its local endpoint, with no mesh of the command's own (here the command's mDNS tag
 * finds nobody, so only the node can have answered); a command on another farm's key is
 * not answered by it; and the node's own data directory takes no writes from commands.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import anyTest, { type TestFn } from 'ava'
import { execa } from 'execa'
import { writeSwarmKey } from '../../src/node/mesh/swarm-key.js'
import { jobSpec } from '../helpers/farm-events.js'
import { RenderFarm } from '../helpers/render-farm.js'

const CR = fileURLToPath(new URL('../../bin/cr.js', import.meta.url))

interface Context {
  readonly farm: RenderFarm
  /** XDG_DATA_HOME of this machine's user: the node runs in its default node data directory. */
  readonly dataHome: string
  readonly nodeDir: string
}

const test = anyTest as TestFn<Context>

test.before(async (t) => {
  const farm = await RenderFarm.create()
  const dataHome = path.join(farm.dir, 'xdg')
  const nodeDir = path.join(dataHome, 'constellation', 'node')
  await mkdir(nodeDir, { recursive: true })
  await farm.startNode('render-local', { dataDir: nodeDir, render: { enabled: false } })
  await farm.submit(jobSpec({ name: 'seen_through_the_node' }))
  await farm.until((view) => view.jobs.length === 1 ? true : undefined, 'the job to be known')
  t.context = { farm, dataHome, nodeDir }
})

test.after.always(async (t) => {
  await t.context.farm.destroy()
})

async function cr (context: Context, dataDir: string, args: readonly string[], swarmKey = context.farm.swarmKeyFile) {
  return execa(process.execPath, [CR, ...args], {
    reject: false,
    env: {
      XDG_DATA_HOME: context.dataHome,
      CR_DATA_DIR: dataDir,
      CR_SWARM_KEY: swarmKey,
      // A tag nobody announces: the command's own mesh would find no peer.
      CR_MDNS_TAG: '_cr-nobody._udp.local',
      CR_LISTEN: '/ip4/127.0.0.1/tcp/0',
      CR_TIMEOUT: '2'
    }
  })
}

test.serial('a read on the node\'s machine shows the node\'s live copy, with no mesh of its own', async (t) => {
  const result = await cr(t.context, path.join(t.context.farm.dir, 'artist'), ['jobs'])
  t.is(result.exitCode, 0, result.stderr)
  t.regex(result.stdout, /seen_through_the_node/)
  t.notRegex(result.stderr, /no peer reachable/)
})

test.serial('a command on another farm\'s key is not answered by the node', async (t) => {
  const otherKey = path.join(t.context.farm.dir, 'other.key')
  await writeSwarmKey(otherKey, {})
  const result = await cr(t.context, path.join(t.context.farm.dir, 'stranger'), ['jobs'], otherKey)
  t.is(result.exitCode, 0, result.stderr)
  t.regex(result.stderr, /no peer reachable within 2 s/)
  t.notRegex(result.stdout, /seen_through_the_node/)
})

test.serial('the node\'s own data directory answers reads and refuses a command\'s write, exit 2', async (t) => {
  const read = await cr(t.context, t.context.nodeDir, ['jobs', '--json'])
  t.is(read.exitCode, 0, read.stderr)
  const [job] = JSON.parse(read.stdout) as { shortId: string }[]
  const write = await cr(t.context, t.context.nodeDir, ['job', 'halt', job?.shortId ?? ''])
  t.is(write.exitCode, 2)
  t.regex(write.stderr, /running render node, which takes no writes from commands; give the command its own --data-dir/)
})
