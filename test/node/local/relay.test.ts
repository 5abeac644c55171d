/**
 * A command's own store written through a holder's log over a real Unix socket (as on a
 * render node's machine): it catches up a log larger than one pull's answer, judges its
 * fact against what it caught up, signs it in its own feed, and the holder's store then
 * holds it; an earlier write the holder never stored is relayed first, so its chain has
 * no gap; a holder that relays nothing is refused by name.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { silentLogger } from '../../../src/node/log.js'
import { LocalClient } from '../../../src/node/local/client.js'
import { farmFingerprint, LocalEndpoint, type LocalFarm } from '../../../src/node/local/endpoint.js'
import { HolderRefusedError } from '../../../src/node/local/errors.js'
import { RelayController } from '../../../src/node/local/relay-controller.js'
import { admitRelayed, eventsMissingFrom } from '../../../src/node/local/relayed-log.js'
import { openDataDir } from '../../../src/node/controller/controller.js'
import { NotAllowedError } from '../../../src/node/controller/errors.js'
import { writeSwarmKey } from '../../../src/node/mesh/swarm-key.js'
import { EventStore } from '../../../src/node/store/event-store.js'
import { encodeEvent } from '../../../src/protocol/encoding.js'
import { jobSpec, makeSigners, World } from '../../helpers/farm-events.js'
import { nth } from '../../helpers/nth.js'

/** More than two pulls' answers (1,024 events each). */
const LOG_EVENTS = 2_500

interface Machine {
  readonly dir: string
  readonly holder: EventStore
  readonly holderDir: string
  readonly swarmKeyFile: string
}

/** A holder whose store has `events`, served as a render node serves its log, and a swarm key for commands. */
async function machine (t: { teardown: (fn: () => Promise<void>) => void }, events: readonly Uint8Array[], relays = true): Promise<Machine> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-relay-'))
  const holderDir = path.join(dir, 'node')
  const holder = await EventStore.open(path.join(holderDir, 'store'), nth(await makeSigners(1), 0))
  await holder.ingestBatch(events)
  const farm: LocalFarm = {
    peerId: holder.author,
    farm: farmFingerprint(new Uint8Array(32)),
    addresses: () => [],
    reachedPeer: () => true,
    view: () => holder.view(),
    livePeers: () => new Set([holder.author]),
    clockSkewOf: () => null,
    logs: () => Promise.resolve([]),
    followLogs: () => () => undefined,
    ...(relays ? { pull: async (have) => eventsMissingFrom(holder, have), relay: async (relayed) => admitRelayed(holder, relayed) } : {}),
    refusalOf: (error) => ({ kind: 'failed', message: error instanceof Error ? error.message : String(error) })
  }
  const endpoint = await LocalEndpoint.open(holderDir, farm, silentLogger())
  const swarmKeyFile = path.join(dir, 'swarm.key')
  await writeSwarmKey(swarmKeyFile, {})
  t.teardown(async () => {
    await endpoint?.close()
    await holder.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { dir, holder, holderDir, swarmKeyFile }
}

async function command (t: { teardown: (fn: () => Promise<void>) => void }, at: Machine, name: string): Promise<RelayController> {
  const node = await LocalClient.connect(at.holderDir)
  if (node === null) throw new Error('nobody holds the node\'s data directory')
  const relay = await RelayController.open({ dataDir: path.join(at.dir, name), swarmKeyFile: at.swarmKeyFile, node })
  t.teardown(async () => relay.close())
  return relay
}

test('a command catches up a log of several answers from the holder, and its write is then in the holder\'s store', async (t) => {
  const world = new World(await makeSigners(2))
  for (let index = 0; index < LOG_EVENTS; index++) world.write(index % 2, { type: 'job.submitted', job: jobSpec({ name: `job_${index}` }) })
  const at = await machine(t, world.events.map(({ event }) => encodeEvent(event)))
  const relay = await command(t, at, 'artist')
  await relay.catchUp()
  t.is(relay.view().jobs.length, LOG_EVENTS)
  t.deepEqual([...relay.livePeers()], [at.holder.author])
  const written = await relay.write({ type: 'job.submitted', job: jobSpec({ name: 'relayed' }) }, 5_000)
  t.is(written.event.seq, 1)
  t.not(written.event.author, at.holder.author)
  t.is(at.holder.versionVector()[written.event.author], 1)
  t.true(at.holder.view().jobs.some((job) => job.name === 'relayed'))
})

test('a fact the command may not state is refused before anything is written or relayed', async (t) => {
  const world = new World(await makeSigners(1))
  const job = world.submit(0, { name: 'someone_elses' })
  const at = await machine(t, world.events.map(({ event }) => encodeEvent(event)))
  const relay = await command(t, at, 'stranger')
  await relay.catchUp()
  await t.throwsAsync(relay.write({ type: 'job.edited', jobId: job.id, changes: { halted: true } }, 5_000), { instanceOf: NotAllowedError })
  t.deepEqual(at.holder.versionVector(), { [nth(world.signers, 0).author]: 1 })
})

test('an earlier write the holder never stored goes with the next one, so the holder sees no gap', async (t) => {
  const at = await machine(t, [])
  const artist = path.join(at.dir, 'artist')
  // A write while no node could take it: it stayed in the artist's own feed.
  const { store } = await openDataDir(artist, at.swarmKeyFile, Date.now)
  await store.append({ type: 'job.submitted', job: jobSpec({ name: 'kept_in_its_feed' }) }, Date.now())
  await store.close()
  const relay = await command(t, at, 'artist')
  await relay.catchUp()
  const written = await relay.write({ type: 'job.submitted', job: jobSpec({ name: 'written_now' }) }, 5_000)
  t.is(written.event.seq, 2)
  t.deepEqual(at.holder.view().jobs.map((job) => job.name).sort(), ['kept_in_its_feed', 'written_now'])
})

test('a holder that relays nothing (a command\'s controller) refuses the pull by name', async (t) => {
  const at = await machine(t, [], false)
  const relay = await command(t, at, 'artist')
  const refused = await t.throwsAsync(relay.catchUp(), { instanceOf: HolderRefusedError })
  t.regex(refused.message, /relays no events/)
})
