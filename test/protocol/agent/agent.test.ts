/**
 * The render-node agent: claims, waits out the settle window, renders only while it holds
 * the lease, stops at once when it loses it, answers hails from its real state, releases
 * what it holds on shutdown and what it no longer renders after a restart, and takes over
 * the blocks of holders liveness declares dead; and, while it renders short blocks, claims
 * the next ones so that each settle window passes during earlier renders.
 */
import test from 'ava'
import { HEARTBEAT_TIMEOUT_MS, DEAD_AFTER_SILENCE_MS } from '../../../src/protocol/liveness.js'
import { blockKey, rankPeers } from '../../../src/protocol/rendezvous.js'
import { BUSY_TICK_MS, IDLE_TICK_MS, PREFETCH_LEAD_MS } from '../../../src/protocol/agent/agent.js'
import type { AgentCommand } from '../../../src/protocol/agent/types.js'
import { CLAIM_JITTER_MS, CLAIM_SETTLE_MS, CLAIM_STAGGER_MS, MAX_HELD_LEASES } from '../../../src/protocol/scheduling.js'
import { jobSpec, makeSigners } from '../../helpers/farm-events.js'
import { AgentHarness, appended } from './harness.js'

const signers = await makeSigners(4)
/** Node 1's agent, with a two-block job submitted by node 0, and that job's id. */
function farm (overrides: Parameters<typeof jobSpec>[0] = {}, random?: () => number) {
  const harness = new AgentHarness(signers, 1, random)
  const job = harness.world.submit(0, { frameStart: 1, frameEnd: 4, blockSize: 2, ...overrides })
  return { harness, jobId: job.id }
}

const frames = [{ frame: 1, ms: 400 }, { frame: 2, ms: 400 }]

test('a new node announces itself, claims its block, settles, renders, finishes and takes the next', (t) => {
  const { harness, jobId } = farm()
  t.deepEqual(appended(harness.sync()), ['node.settings', 'block.claimed 0@1'])
  t.is(harness.agent.current.kind, 'settling')
  t.deepEqual(harness.tickTo(CLAIM_SETTLE_MS - 100).filter((command) => command.kind !== 'send-heartbeat'), [], 'nothing starts inside the settle window')
  const started = harness.tickTo(CLAIM_SETTLE_MS)
  t.deepEqual(appended(started), ['block.started 0@1'])
  t.deepEqual(started.find((command) => command.kind === 'start-renderer'), { kind: 'start-renderer', target: { jobId, block: 0, epoch: 1 }, frames: { start: 1, end: 2 } })
  const next = harness.drive({ kind: 'render-finished', nowMs: 900, target: { jobId, block: 0, epoch: 1 }, wallMs: 800, frames })
  t.deepEqual(appended(next), ['block.finished 0@1', 'block.claimed 1@1'])
  t.like(next.find((command) => command.kind === 'append' && command.body.type === 'block.finished'), { body: { wallMs: 800, frameMs: [400, 400] } })
  t.like(harness.view().jobs[0]?.blocks[0], { status: 'DONE', frameTimes: [{ frame: 1, ms: 400 }, { frame: 2, ms: 400 }] })
})

test('a finish carries one time per frame of the block, in frame order; frames the renderer did not time share the rest', (t) => {
  const { harness, jobId } = farm({ frameStart: 10, frameEnd: 13, blockSize: 4 })
  harness.sync()
  harness.tickTo(CLAIM_SETTLE_MS)
  const target = { jobId, block: 0, epoch: 1 }
  const commands = harness.drive({ kind: 'render-finished', nowMs: 900, target, wallMs: 1000, frames: [{ frame: 12, ms: 300 }, { frame: 10, ms: 100 }] })
  t.like(commands.find((command) => command.kind === 'append' && command.body.type === 'block.finished'), { body: { frameMs: [100, 300, 300, 300] } })
  t.like(harness.view().jobs[0], { status: 'DONE', framesDone: 4, renderTime: { totalMs: 1000, frames: 4 } })
})

/**
 * Node 1, idle, handed block 0 of a two-block job; live node `rival` holds block 1 and
 * outranks node 1 for block 0, so a view of its that lags could claim block 0 too.
 */
function contested (random: () => number) {
  const { harness, jobId } = farm({}, random)
  const key = blockKey(jobId, 0, 1)
  const rival = [0, 2, 3].find((who) => rankPeers(key, [harness.id, harness.world.author(who)])[0] !== harness.id)
  if (rival === undefined) throw new Error('no rival outranks node 1 for this key')
  const rivalId = harness.world.author(rival)
  harness.world.write(rival, { type: 'node.settings', node: rivalId, changes: { name: 'rival' } })
  harness.world.write(rival, { type: 'block.claimed', jobId, block: 1, epoch: 1 })
  harness.tickTo(100, [rivalId])
  return { harness, jobId, rivalId }
}

test('a node handed a block that a live peer outranks it for claims it after a random moment, on the view it has by then', (t) => {
  const { harness } = contested(() => 0.5)
  t.deepEqual(appended(harness.sync()), ['node.settings'])
  t.is(harness.agent.current.kind, 'waiting')
  t.deepEqual(appended(harness.tickTo(100 + CLAIM_JITTER_MS / 2 - 100)), [])
  t.deepEqual(appended(harness.tickTo(100 + CLAIM_JITTER_MS / 2)), ['block.claimed 0@1'])
})

test('a node handed a block that no live eligible peer outranks it for claims at once: any collision on it goes its way', (t) => {
  const { harness } = farm({}, () => 0.5)
  t.deepEqual(appended(harness.sync()), ['node.settings', 'block.claimed 0@1'])
})

test('a claim that loses the collision withdraws before starting, and writes nothing', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  const key = blockKey(jobId, 0, 1)
  const rival = [0, 2, 3].find((who) => rankPeers(key, [harness.id, harness.world.author(who)])[0] !== harness.id)
  if (rival === undefined) return t.fail('no rival outranks node 1 for this key')
  t.deepEqual(appended(harness.sync()), ['node.settings', 'block.claimed 0@1'])
  harness.world.write(rival, { type: 'block.claimed', jobId, block: 0, epoch: 1 })
  harness.sync()
  const settled = harness.tickTo(CLAIM_SETTLE_MS)
  t.false(settled.some((command) => command.kind === 'start-renderer' || command.kind === 'append'))
  t.is(harness.agent.current.kind, 'idle')
})

test('a renderer stops at once when a higher epoch takes the block; no fact is written for it', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  harness.sync()
  harness.tickTo(CLAIM_SETTLE_MS)
  t.is(harness.agent.current.kind, 'rendering')
  harness.world.write(2, { type: 'block.claimed', jobId, block: 0, epoch: 2 })
  const commands = harness.sync()
  t.deepEqual(commands, [{ kind: 'stop-renderer', target: { jobId, block: 0, epoch: 1 }, reason: 'lost the lease' }])
  t.deepEqual(harness.drive({ kind: 'render-finished', nowMs: 900, target: { jobId, block: 0, epoch: 1 }, wallMs: 800, frames }), [], 'a late outcome of a stopped render is ignored')
})

test('hails are answered from the renderer\'s real state', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  const lease = { jobId, block: 0, epoch: 1 }
  t.deepEqual(harness.drive({ kind: 'hail-received', from: 'asker', nowMs: 0, nonce: 5, lease }), [{ kind: 'answer-hail', to: 'asker', nonce: 5, rendering: null }])
  harness.sync()
  harness.tickTo(CLAIM_SETTLE_MS)
  t.deepEqual(harness.drive({ kind: 'hail-received', from: 'asker', nowMs: 400, nonce: 6, lease }), [{ kind: 'answer-hail', to: 'asker', nonce: 6, rendering: lease }])
})

test('graceful shutdown stops the renderer and releases the lease so others take it at once', (t) => {
  const { harness } = farm({ frameEnd: 2 })
  harness.sync()
  harness.tickTo(CLAIM_SETTLE_MS)
  const commands = harness.drive({ kind: 'shutdown', nowMs: 500 })
  t.deepEqual(commands.map((command) => command.kind), ['stop-renderer', 'append'])
  t.deepEqual(appended(commands), ['block.released 0@1'])
  t.is(harness.view().jobs[0]?.blocks[0]?.status, 'QUEUE')
  t.deepEqual(harness.drive({ kind: 'tick', nowMs: 600, mayRender: true }), [], 'a stopped agent does nothing')
})

test('after a restart, a lease the log shows but no renderer runs is released', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  // The previous run of this node claimed and started block 0, then died.
  harness.world.write(1, { type: 'node.settings', node: harness.id, changes: { name: 'node-1' } })
  harness.world.write(1, { type: 'block.claimed', jobId, block: 0, epoch: 1 })
  harness.world.write(1, { type: 'block.started', jobId, block: 0, epoch: 1 })
  t.deepEqual(appended(harness.sync()), ['block.released 0@1', 'block.claimed 0@2'])
})

test('a fatal failure disables the job and the node moves on to other work', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  const other = harness.world.submit(0, { frameStart: 1, frameEnd: 2, blockSize: 2, priority: 10 }).id
  harness.sync()
  harness.tickTo(CLAIM_SETTLE_MS)
  const target = { jobId, block: 0, epoch: 1 }
  const commands = harness.drive({ kind: 'render-failed', nowMs: 400, target, failure: 'fatal', message: 'scene not found', outputTail: ['Error: Cannot read file'] })
  t.deepEqual(appended(commands), ['block.failed 0@1', 'block.claimed 0@1'])
  const claim = commands.find((command) => command.kind === 'append' && command.body.type === 'block.claimed')
  t.like(claim, { body: { jobId: other } })
  t.false(harness.view().jobs.find((job) => job.id === jobId)?.enabled)
})

test('a disabled job\'s block is stopped and released', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  harness.sync()
  harness.tickTo(CLAIM_SETTLE_MS)
  harness.world.write(0, { type: 'job.edited', jobId, changes: { enabled: false } })
  const commands = harness.sync()
  t.is(commands[0]?.kind, 'stop-renderer')
  t.deepEqual(appended(commands), ['block.released 0@1'])
})

test('the block of a holder that falls silent and answers no hail is taken over at the next epoch', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  const holder = harness.world.author(2)
  harness.world.write(2, { type: 'node.settings', node: holder, changes: { name: 'node-2' } })
  harness.world.write(2, { type: 'block.claimed', jobId, block: 0, epoch: 1 })
  harness.world.write(2, { type: 'block.started', jobId, block: 0, epoch: 1 })
  t.deepEqual(appended(harness.sync()), ['node.settings'], 'a live holder keeps its block')
  harness.tickTo(1_000, [holder])
  const silence = harness.tickTo(1_000 + HEARTBEAT_TIMEOUT_MS)
  t.false(silence.some((command) => command.kind === 'send-hail'), 'silence up to the timeout is tolerated')
  const hailing = harness.tickTo(1_000 + DEAD_AFTER_SILENCE_MS)
  t.deepEqual(hailing.filter((command) => command.kind !== 'send-heartbeat').map((command) => command.kind).slice(0, 3), ['send-hail', 'declare-dead', 'append'])
  t.deepEqual(appended(hailing)[0], 'block.claimed 0@2')
})

test('a holder that answers the hail keeps its block', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  const holder = harness.world.author(2)
  const lease = { jobId, block: 0, epoch: 1 }
  harness.world.write(2, { type: 'node.settings', node: holder, changes: { name: 'node-2' } })
  harness.world.write(2, { type: 'block.claimed', ...lease })
  harness.sync()
  harness.tickTo(500, [holder])
  // Its heartbeats stop reaching us for 20 s, but it answers every hail.
  let hails = 0
  for (let step = 0; step < 200; step++) {
    for (const command of harness.tickTo(harness.nowMs + 100)) {
      t.false(command.kind === 'declare-dead' || command.kind === 'append', JSON.stringify(command))
      if (command.kind === 'send-hail') hails++
      if (command.kind === 'send-hail') harness.drive({ kind: 'hail-answered', from: holder, nowMs: harness.nowMs, nonce: command.nonce, answer: { rendering: lease, feedSeq: 2 }, heldSeq: 2 })
    }
  }
  t.true(hails >= 5)
  t.is(harness.view().jobs[0]?.blocks[0]?.lease?.holder, holder)
})

/** Node 1 as a backup: a one-block job for which live node `rival` ranks first. */
function backup () {
  const { harness, jobId } = farm({ frameEnd: 2 })
  const key = blockKey(jobId, 0, 1)
  const rival = [0, 2, 3].find((who) => rankPeers(key, [harness.id, harness.world.author(who)])[0] !== harness.id)
  if (rival === undefined) throw new Error('no rival outranks node 1 for this key')
  const rivalId = harness.world.author(rival)
  harness.world.write(rival, { type: 'node.settings', node: rivalId, changes: { name: 'rival' } })
  harness.tickTo(100, [rivalId])
  harness.sync()
  return { harness, jobId, rival, rivalId }
}

test('a backup waits out its stagger, and does not claim a block its first choice took', (t) => {
  const { harness, jobId, rival, rivalId } = backup()
  t.like(harness.agent.current, { kind: 'waiting', target: { jobId, block: 0, epoch: 1 }, claimAtMs: 100 + CLAIM_STAGGER_MS })
  harness.world.write(rival, { type: 'block.claimed', jobId, block: 0, epoch: 1 })
  harness.sync()
  t.deepEqual(appended(harness.tickTo(1_000, [rivalId])), [])
  t.is(harness.agent.current.kind, 'idle')
})

test('a backup claims once its stagger is over if the first choice stayed silent', (t) => {
  const { harness, rivalId } = backup()
  t.deepEqual(appended(harness.tickTo(100 + CLAIM_STAGGER_MS - 100, [rivalId])), [])
  t.deepEqual(appended(harness.tickTo(100 + CLAIM_STAGGER_MS, [rivalId])), ['block.claimed 0@1'])
})

test('a rival claim on the block we hold is answered with our claim, directly', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  harness.sync()
  const target = { jobId, block: 0, epoch: 1 }
  t.deepEqual(harness.drive({ kind: 'claim-seen', from: 'rival', nowMs: 10, target }), [{ kind: 'send-claim', to: 'rival', target }])
  t.deepEqual(harness.drive({ kind: 'claim-seen', from: 'rival', nowMs: 10, target: { ...target, block: 1 } }), [], 'another block is none of our business')
})

test('a rival claim heard before we claim the same block is sent ours the moment we claim, before our view shows theirs', (t) => {
  const { harness, jobId, rivalId } = contested(() => 0.5)
  t.deepEqual(appended(harness.sync()), ['node.settings'])
  t.is(harness.agent.current.kind, 'waiting')
  const target = { jobId, block: 0, epoch: 1 }
  // A third node's claim arrives by gossip; the view that would show it is not flushed yet.
  t.deepEqual(harness.drive({ kind: 'claim-seen', from: 'third', nowMs: 110, target }).filter((command) => command.kind === 'send-claim'), [])
  const claimed = harness.tickTo(100 + CLAIM_JITTER_MS / 2, [rivalId])
  t.deepEqual(appended(claimed), ['block.claimed 0@1'])
  t.deepEqual(claimed.filter((command) => command.kind === 'send-claim').sort((a, b) => (a.to < b.to ? -1 : 1)), [rivalId, 'third'].sort().map((to) => ({ kind: 'send-claim', to, target })))
})

test('a claim goes straight to every live peer as well as by gossip, so a rival that claimed beside us hears of it within the settle window', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  const peers = [harness.world.author(2), harness.world.author(3)].sort()
  for (const from of peers) harness.drive({ kind: 'heartbeat-received', from, nowMs: 0, beat: { lease: null, idle: true, mayRender: true } })
  const claimed = harness.sync()
  t.deepEqual(appended(claimed), ['node.settings', 'block.claimed 0@1'])
  t.deepEqual(claimed.flatMap((command) => (command.kind === 'send-claim' ? [command] : [])), peers.map((to) => ({ kind: 'send-claim', to, target: { jobId, block: 0, epoch: 1 } })))
})

test('a holder that answers "no" frees its block at once: taken over at the next epoch', (t) => {
  const { harness, jobId } = farm({ frameEnd: 2 })
  const holder = harness.world.author(2)
  harness.world.write(2, { type: 'node.settings', node: holder, changes: { name: 'node-2' } })
  harness.world.write(2, { type: 'block.claimed', jobId, block: 0, epoch: 1 })
  harness.sync()
  harness.tickTo(500, [holder])
  const [hail] = harness.drive({ kind: 'peer-disconnected', peer: holder, nowMs: 500 })
  if (hail?.kind !== 'send-hail') return t.fail('a dropped holder is hailed at once')
  const commands = harness.drive({ kind: 'hail-answered', from: holder, nowMs: 510, nonce: hail.nonce, answer: { rendering: null, feedSeq: 2 }, heldSeq: 2 })
  t.deepEqual(commands.map((command) => command.kind).slice(0, 2), ['lease-freed', 'append'])
  t.deepEqual(appended(commands)[0], 'block.claimed 0@2')
})

/**
 * Node 1 alone with a job of `blocks` one-frame blocks whose first block it rendered in
 * `frameMs`: the job's average frame time is known, and block 1 renders from `nowMs`.
 */
function renderingWithAverage (blocks: number, frameMs: number) {
  const { harness, jobId } = farm({ frameEnd: blocks, blockSize: 1 })
  harness.sync()
  harness.tickTo(CLAIM_SETTLE_MS)
  harness.nowMs += frameMs
  harness.drive({ kind: 'render-finished', nowMs: harness.nowMs, target: { jobId, block: 0, epoch: 1 }, wallMs: frameMs, frames: [{ frame: 1, ms: frameMs }] })
  harness.tickTo(harness.nowMs + CLAIM_SETTLE_MS)
  return { harness, jobId }
}

const claimsIn = (commands: readonly AgentCommand[]): string[] => appended(commands).filter((fact) => fact.startsWith('block.claimed'))

test('short blocks: while it renders, a node claims the blocks after it, up to MAX_HELD_LEASES leases in all', (t) => {
  const { harness } = renderingWithAverage(20, 10)
  t.is(harness.agent.current.kind, 'rendering')
  t.is(harness.agent.held().length, MAX_HELD_LEASES)
  t.deepEqual(harness.agent.claims.map(({ target }) => target.block), [2, 3, 4, 5, 6, 7, 8])
  t.deepEqual(harness.view().nodes.find((node) => node.id === harness.id)?.holding.length, MAX_HELD_LEASES, 'every claim is in the log')
})

test('a finished block is followed by the next settled claim in the same step: no settle window between renders', (t) => {
  const { harness, jobId } = renderingWithAverage(20, 10)
  harness.tickTo(harness.nowMs + CLAIM_SETTLE_MS)
  const commands = harness.drive({ kind: 'render-finished', nowMs: harness.nowMs, target: { jobId, block: 1, epoch: 1 }, wallMs: 10, frames: [{ frame: 2, ms: 10 }] })
  t.deepEqual(appended(commands).slice(0, 2), ['block.finished 1@1', 'block.started 2@1'])
  t.like(commands.find((command) => command.kind === 'start-renderer'), { target: { jobId, block: 2, epoch: 1 }, frames: { start: 3, end: 3 } })
  t.deepEqual(claimsIn(commands), ['block.claimed 9@1'], 'and the queue is topped up')
})

test('a claim queued behind a render starts no sooner than its settle window ends; the driver is told when that is', (t) => {
  const { harness, jobId } = farm({ frameEnd: 20, blockSize: 1 })
  harness.sync()
  harness.tickTo(CLAIM_SETTLE_MS)
  harness.drive({ kind: 'render-finished', nowMs: 310, target: { jobId, block: 0, epoch: 1 }, wallMs: 10, frames: [{ frame: 1, ms: 10 }] })
  t.deepEqual(harness.agent.current, { kind: 'settling', target: { jobId, block: 1, epoch: 1 }, startAtMs: 310 + CLAIM_SETTLE_MS })
  t.is(harness.agent.nextDueMs(), 310 + CLAIM_SETTLE_MS)
  t.deepEqual(appended(harness.drive({ kind: 'tick', nowMs: 310 + CLAIM_SETTLE_MS - 1, mayRender: true })), [])
  t.deepEqual(appended(harness.drive({ kind: 'tick', nowMs: 310 + CLAIM_SETTLE_MS, mayRender: true })).slice(0, 1), ['block.started 1@1'])
  t.is(harness.agent.nextDueMs(), null, 'nothing falls due while the renderer is busy')
})

test('long blocks: the next block is claimed only once the render should end within PREFETCH_LEAD_MS', (t) => {
  const frameMs = 10_000
  const { harness } = renderingWithAverage(4, frameMs)
  const startedMs = harness.nowMs
  t.deepEqual(harness.agent.claims, [], 'a block of ten seconds holds nothing back from idle nodes')
  t.deepEqual(claimsIn(harness.tickTo(startedMs + frameMs - PREFETCH_LEAD_MS - 100)), [])
  t.deepEqual(claimsIn(harness.tickTo(startedMs + frameMs - PREFETCH_LEAD_MS)), ['block.claimed 2@1'])
  t.deepEqual(claimsIn(harness.tickTo(startedMs + frameMs)), [], 'one block of ten seconds ahead is enough')
})

test('a job\'s first block claims nothing ahead: with no frame time known, a long block would hold its successor', (t) => {
  const { harness } = farm({ frameEnd: 8, blockSize: 1 })
  harness.sync()
  harness.tickTo(CLAIM_SETTLE_MS)
  t.is(harness.agent.current.kind, 'rendering')
  t.deepEqual(claimsIn(harness.tickTo(5_000)), [])
})

test('a queued claim that a rival outranks is dropped at once and never started; nothing is written for it', (t) => {
  const { harness, jobId } = renderingWithAverage(20, 10)
  const lost = harness.agent.claims.map(({ target }) => target).find((target) => [0, 2, 3].some((who) => rankPeers(blockKey(jobId, target.block, 1), [harness.id, harness.world.author(who)])[0] !== harness.id))
  if (lost === undefined) return t.fail('no queued block that a rival outranks node 1 for')
  const rival = [0, 2, 3].find((who) => rankPeers(blockKey(jobId, lost.block, 1), [harness.id, harness.world.author(who)])[0] !== harness.id) ?? 0
  harness.world.write(rival, { type: 'block.claimed', ...lost })
  const commands = harness.sync()
  t.false(commands.some((command) => command.kind === 'stop-renderer' || (command.kind === 'append' && command.body.type !== 'block.claimed')))
  t.false(harness.agent.held().some((target) => target.block === lost.block))
  t.is(harness.agent.current.kind, 'rendering', 'the render goes on')
})

test('graceful shutdown releases the queued claims with the rendering block', (t) => {
  const { harness } = renderingWithAverage(5, 10)
  const commands = harness.drive({ kind: 'shutdown', nowMs: harness.nowMs })
  t.deepEqual(appended(commands), ['block.released 1@1', 'block.released 2@1', 'block.released 3@1', 'block.released 4@1'])
  t.deepEqual(harness.view().nodes.find((node) => node.id === harness.id)?.holding, [])
})

test('a halted job\'s queued claims are released with its render stopped', (t) => {
  const { harness, jobId } = renderingWithAverage(4, 10)
  harness.world.write(0, { type: 'job.edited', jobId, changes: { halted: true } })
  const commands = harness.sync()
  t.is(commands[0]?.kind, 'stop-renderer')
  t.deepEqual(appended(commands), ['block.released 1@1', 'block.released 2@1', 'block.released 3@1'])
  t.deepEqual(harness.agent.held(), [])
})

test('a node that may not render now (outside its hours, or finishing before it stops) releases its queued claims and starts none', (t) => {
  const { harness, jobId } = renderingWithAverage(4, 10)
  const commands = harness.drive({ kind: 'tick', nowMs: harness.nowMs + 1, mayRender: false })
  t.deepEqual(appended(commands), ['block.released 2@1', 'block.released 3@1'])
  t.deepEqual(appended(harness.drive({ kind: 'render-finished', nowMs: harness.nowMs + 5, target: { jobId, block: 1, epoch: 1 }, wallMs: 10, frames: [{ frame: 2, ms: 10 }] })), ['block.finished 1@1'])
  t.is(harness.agent.current.kind, 'idle')
})

test('a hailed node answers for the block it renders and releases the claims queued behind it: the hailer frees those, so they must be free', (t) => {
  const { harness, jobId } = renderingWithAverage(20, 10)
  const commands = harness.drive({ kind: 'hail-received', from: 'asker', nowMs: harness.nowMs, nonce: 7, lease: { jobId, block: 1, epoch: 1 } })
  t.deepEqual(appended(commands), [2, 3, 4, 5, 6, 7, 8].map((block) => `block.released ${block}@1`))
  t.like(commands.find((command) => command.kind === 'answer-hail'), { rendering: { jobId, block: 1, epoch: 1 } })
  t.deepEqual(harness.agent.held(), [{ jobId, block: 1, epoch: 1 }])
  t.deepEqual(claimsIn(harness.tickTo(harness.nowMs + 1_000)), [], 'nothing is claimed ahead while an answer may still arrive')
  t.true(claimsIn(harness.tickTo(harness.nowMs + 2_000)).length > 0, 'and claims ahead again after')
})

test('an idle agent asks to be ticked at its next heartbeat and no later than IDLE_TICK_MS; one that holds a claim within BUSY_TICK_MS', (t) => {
  const harness = new AgentHarness(signers, 1)
  harness.sync()
  harness.tickTo(1_000)
  const beat = harness.tickTo(1_100)
  t.true(beat.some((command) => command.kind === 'send-heartbeat'), 'a heartbeat fell due at 1,100 ms')
  t.is(harness.agent.current.kind, 'idle')
  t.is(harness.agent.nextTickAtMs(harness.nowMs), harness.nowMs + IDLE_TICK_MS, 'the next heartbeat: nothing falls due before it')
  harness.world.submit(0, { frameStart: 1, frameEnd: 4, blockSize: 2 })
  t.deepEqual(appended(harness.sync()), ['block.claimed 0@1'])
  t.is(harness.agent.nextTickAtMs(harness.nowMs), harness.nowMs + BUSY_TICK_MS)
  harness.drive({ kind: 'shutdown', nowMs: harness.nowMs })
  t.is(harness.agent.nextTickAtMs(harness.nowMs), null, 'a stopped agent is not ticked')
})
