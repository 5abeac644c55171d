/**
 * `cr` on a machine that runs a render node: a read is answered by the node's live copy
 * over its local endpoint, with no mesh of the command's own (here the command's mDNS tag
 * finds nobody, so only the node can have answered), the node itself among the live; a
 * write is signed in the command's own feed and relayed through the node, which admits a
 * relayed event only as it admits a peer's and passes it on; a command on another farm's
 * key is not answered by it; the node's own data directory takes no writes from commands;
 * and where no node can relay, a write joins the mesh itself.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import anyTest, { type TestFn } from 'ava'
import { execa } from 'execa'
import { LocalClient } from '../../src/node/local/client.js'
import { HolderRefusedError } from '../../src/node/local/errors.js'
import { writeSwarmKey } from '../../src/node/mesh/swarm-key.js'
import { encodeEvent } from '../../src/protocol/encoding.js'
import { jobSpec, makeSigners, World } from '../helpers/farm-events.js'
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

async function cr (context: Context, dataDir: string, args: readonly string[], swarmKey = context.farm.swarmKeyFile, env: Record<string, string> = {}) {
  return execa(process.execPath, [CR, ...args], {
    reject: false,
    env: {
      XDG_DATA_HOME: context.dataHome,
      CR_DATA_DIR: dataDir,
      CR_SWARM_KEY: swarmKey,
      // A tag nobody announces: the command's own mesh would find no peer.
      CR_MDNS_TAG: '_cr-nobody._udp.local',
      CR_LISTEN: '/ip4/127.0.0.1/tcp/0',
      CR_TIMEOUT: '2',
      ...env
    }
  })
}

/** Far under the farm's 10 s anti-entropy round, far over a relay on a loaded machine. */
const RELAYED_HEARD_WITHIN_MS = 3_000

const submitArgs = (name: string): string[] => ['submit', '--name', name, '--project', 'relay', '--software', 'blender', '--scene', '/studio/shot.blend', '--allow-missing-scene', '--target', '/renders/relay', '--frames', '1-4', '--disabled', '--verbose']

/** Waits until a process listens for `dataDir`'s commands. */
async function untilHeld (dataDir: string): Promise<void> {
  const giveUpAt = Date.now() + 30_000
  while (Date.now() < giveUpAt) {
    const holder = await LocalClient.connect(dataDir)
    if (holder !== null) {
      holder.close()
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nobody took ${dataDir} within 30 s`)
}

/** The job named `name` as the node's own store holds it (read through its endpoint), if it does. */
async function nodeHolds (context: Context, name: string): Promise<boolean> {
  const read = await cr(context, context.nodeDir, ['jobs', '--json'])
  if (read.exitCode !== 0) throw new Error(read.stderr)
  return (JSON.parse(read.stdout) as { name: string }[]).some((job) => job.name === name)
}

test.serial('a read on the node\'s machine shows the node\'s live copy, with no mesh of its own', async (t) => {
  const result = await cr(t.context, path.join(t.context.farm.dir, 'artist'), ['jobs'])
  t.is(result.exitCode, 0, result.stderr)
  t.regex(result.stdout, /seen_through_the_node/)
  t.notRegex(result.stderr, /no peer reachable/)
})

test.serial('the node\'s machine sees the node itself up: it is the one answering', async (t) => {
  const result = await cr(t.context, path.join(t.context.farm.dir, 'artist'), ['nodes', '--json'])
  t.is(result.exitCode, 0, result.stderr)
  const [node] = JSON.parse(result.stdout) as { name: string, status: string }[]
  t.is(node?.name, 'render-local')
  t.not(node?.status, 'OFFLINE')
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

test.serial('a write on the node\'s machine is signed in the command\'s own feed and relayed through the node, which stores it and passes it on, with no mesh of the command\'s own', async (t) => {
  const artist = path.join(t.context.farm.dir, 'relaying-artist')
  const submitted = await cr(t.context, artist, submitArgs('relayed_submit'))
  t.is(submitted.exitCode, 0, submitted.stderr)
  // --verbose shows the mesh's own records: a command that joined the mesh says so.
  t.notRegex(submitted.stderr, /mesh started/)
  // The node's peers (the farm's observer is one) hear of it at once, well before a 10 s anti-entropy round.
  const exitedAt = Date.now()
  const job = await t.context.farm.until((view) => view.jobs.find((candidate) => candidate.name === 'relayed_submit'), 'the observer to hear of the relayed job')
  t.true(Date.now() - exitedAt < RELAYED_HEARD_WITHIN_MS, `the observer heard of the relayed job after ${Date.now() - exitedAt} ms`)
  t.true(await nodeHolds(t.context, 'relayed_submit'))
  const halted = await cr(t.context, artist, ['job', 'halt', job.id.slice(0, 8), '--verbose'])
  t.is(halted.exitCode, 0, halted.stderr)
  t.notRegex(halted.stderr, /mesh started/)
  await t.context.farm.until((view) => view.jobs.find((candidate) => candidate.id === job.id)?.halted === true ? true : undefined, 'the observer to see the job halted')
  // Written by the command's identity, in its own feed: another artist may not steer it.
  const stranger = await cr(t.context, path.join(t.context.farm.dir, 'another-artist'), ['job', 'resume', job.id.slice(0, 8)])
  t.is(stranger.exitCode, 5, stranger.stderr)
})

test.serial('the node admits a relayed event only as a peer\'s: a forged, garbled or out-of-chain one is refused, saying why, and stored nowhere', async (t) => {
  const world = new World(await makeSigners(1))
  const first = world.write(0, { type: 'job.submitted', job: jobSpec({ name: 'first_of_its_feed' }) })
  const second = world.write(0, { type: 'job.submitted', job: jobSpec({ name: 'second_of_its_feed' }) })
  const forged = { ...first.event, body: { type: 'job.submitted', job: { ...jobSpec({ name: 'forged_relay' }), id: first.event.body.type === 'job.submitted' ? first.event.body.job.id : '' } } }
  const node = await LocalClient.connect(t.context.nodeDir)
  if (node === null) throw new Error('the node does not listen')
  t.teardown(() => { node.close() })
  const refusals = [
    { events: [encodeEvent(forged as typeof first.event)], why: /refused the relayed event: forged event/ },
    { events: [Uint8Array.from([0xa1, 0x01, 0x02])], why: /refused the relayed event: malformed event/ },
    { events: [encodeEvent(second.event)], why: /refused the relayed event: .*#2 does not follow #0/ }
  ]
  for (const { events, why } of refusals) {
    const refused = await t.throwsAsync(node.relay(events), { instanceOf: HolderRefusedError })
    t.regex(refused.message, why)
  }
  t.false(await nodeHolds(t.context, 'forged_relay'))
  t.false(await nodeHolds(t.context, 'second_of_its_feed'))
  // The same feed, whole and signed, is taken in.
  t.is((await node.relay([encodeEvent(first.event), encodeEvent(second.event)])).have[first.event.author], 2)
  t.true(await nodeHolds(t.context, 'second_of_its_feed'))
})

test.serial('a write where no render node can relay joins the mesh itself: no node on this machine, or one that relays nothing', async (t) => {
  const farmTag = { CR_MDNS_TAG: t.context.farm.mdnsTag }
  const noNodeHere = path.join(t.context.farm.dir, 'xdg-without-node')
  const alone = await cr(t.context, path.join(t.context.farm.dir, 'artist-without-node'), submitArgs('without_a_local_node'), undefined, { ...farmTag, XDG_DATA_HOME: noNodeHere })
  t.is(alone.exitCode, 0, alone.stderr)
  t.regex(alone.stderr, /mesh started/)
  // A command's own controller holds what would be the node's data directory: it answers a hello, and relays nothing.
  const follower = execa(process.execPath, [CR, 'logs', '--follow'], {
    reject: false,
    env: { XDG_DATA_HOME: noNodeHere, CR_DATA_DIR: path.join(noNodeHere, 'constellation', 'node'), CR_SWARM_KEY: t.context.farm.swarmKeyFile, CR_LISTEN: '/ip4/127.0.0.1/tcp/0', ...farmTag }
  })
  t.teardown(() => { follower.kill('SIGKILL') })
  await untilHeld(path.join(noNodeHere, 'constellation', 'node'))
  const past = await cr(t.context, path.join(t.context.farm.dir, 'artist-without-node'), submitArgs('past_a_follower'), undefined, { ...farmTag, XDG_DATA_HOME: noNodeHere })
  t.is(past.exitCode, 0, past.stderr)
  t.regex(past.stderr, /mesh started/)
  t.true(await nodeHolds(t.context, 'past_a_follower'))
})
