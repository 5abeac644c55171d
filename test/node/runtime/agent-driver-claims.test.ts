/**
 * The driver keeps our claim in wire form only while its lease is ours (to send a rival
 * that claimed the same block): a node rendering block after block holds one, not one per
 * block it ever claimed. Real store on disk, a renderer that finishes at once.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import test from 'ava'
import { silentLogger } from '../../../src/node/log.js'
import { AgentDriver } from '../../../src/node/runtime/agent-driver.js'
import { RendererSlot, type RenderFunction } from '../../../src/node/runtime/renderer-slot.js'
import { EventStore } from '../../../src/node/store/event-store.js'
import { MAX_HELD_LEASES } from '../../../src/protocol/scheduling.js'
import { signerFromKey } from '../../../src/protocol/signing.js'
import { jobSpec } from '../../helpers/farm-events.js'

const BLOCKS = 8

/** A mesh with no peers: nothing arrives, everything sent goes nowhere. */
const lonelyMesh = {
  on: () => () => undefined,
  publishEphemeral: async () => Promise.resolve(0),
  sendDirect: async () => Promise.resolve(),
  requestPull: () => undefined,
  reportOffence: () => undefined,
  setWorkInFlight: () => undefined
}

test('a node that renders block after block keeps the claims of the leases it holds, never more than it may hold, and none once done', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-driver-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const store = await EventStore.open(path.join(dir, 'store'), signerFromKey(await generateKeyPair('Ed25519')))
  t.teardown(async () => store.close())
  await store.append({ type: 'job.submitted', job: jobSpec({ frameStart: 1, frameEnd: BLOCKS, blockSize: 1, software: 'blender' }) }, Date.now())
  const render: RenderFunction = async (task) => Promise.resolve({
    kind: 'finished', frames: [{ frame: task.blockIndex + 1, ms: 1 }], wallMs: 1, renderMs: 1, outputs: [], kept: [], replaced: [], warnings: [], outputTail: []
  })
  const driver = new AgentDriver({
    store,
    mesh: lonelyMesh,
    renderer: new RendererSlot({ scratchRoot: path.join(dir, 'scratch'), logger: silentLogger(), render }),
    name: 'solo',
    renders: true,
    local: { executables: {}, software: ['blender'], blenderScripts: false, timeoutPerFrameS: undefined, timeoutGraceS: 60 },
    now: Date.now,
    localTime: () => ({ weekday: 'mon', minuteOfDay: 600 }),
    logger: silentLogger()
  })
  const claims = (driver as unknown as { readonly claims: ReadonlyMap<string, Uint8Array> }).claims
  driver.start()
  t.teardown(async () => driver.stop({ finishFirst: false }))
  let most = 0
  const deadline = Date.now() + 60_000
  while (store.view().jobs[0]?.status !== 'DONE' && Date.now() < deadline) {
    most = Math.max(most, claims.size)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  t.is(store.view().jobs[0]?.framesDone, BLOCKS)
  t.true(most >= 1 && most <= MAX_HELD_LEASES, `${most} claims kept while its blocks rendered`)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.is(claims.size, 0, 'and none once nothing is held')
})
