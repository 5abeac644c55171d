/**
 * Liveness and Hail: a silent holder is hailed directly, then through k peers, and only
 * then declared dead; "no" frees its block at once; delayed heartbeats never kill a
 * holder that answers.
 */
import test from 'ava'
import { IDLE_TICK_MS } from '../../src/protocol/agent/agent.js'
import {
  DEAD_AFTER_SILENCE_MS, FORGET_SILENT_PEER_MS, HAIL_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS, IDLE_HEARTBEAT_INTERVAL_MS,
  IDLE_HEARTBEAT_TIMEOUT_MS, INDIRECT_HAIL_FANOUT, INDIRECT_HAIL_TIMEOUT_MS, Liveness, MAX_PENDING_RELAYS, MAX_RELAYS_PER_REQUESTER, UNWATCHED_RECHECK_MS,
  type Beat, type LeaseRef, type LivenessCommand
} from '../../src/protocol/liveness.js'

const lease: LeaseRef = { jobId: 'job-1', block: 3, epoch: 2 }
const beat: Beat = { lease: null, idle: true, mayRender: true }
const holderBeat: Beat = { lease, idle: false, mayRender: true }
const peers = ['p1', 'p2', 'p3', 'p4', 'p5']

/** Node `self` that has heard everyone at time 0 and sees `holder` holding `lease`. */
function setUp (holder = 'holder') {
  const liveness = new Liveness({ self: 'self', random: () => 0.5 })
  liveness.observeLeases(new Map([[holder, [lease]]]))
  liveness.handle({ kind: 'tick', nowMs: 0 })
  for (const peer of peers) liveness.handle({ kind: 'heartbeat', from: peer, nowMs: 0, beat })
  liveness.handle({ kind: 'heartbeat', from: holder, nowMs: 0, beat: holderBeat })
  return liveness
}

/** Ticks every 100 ms from `fromMs` to `toMs`, keeping the other peers heard; returns the commands. */
function runTo (liveness: Liveness, fromMs: number, toMs: number): LivenessCommand[] {
  const commands: LivenessCommand[] = []
  for (let nowMs = fromMs; nowMs <= toMs; nowMs += 100) {
    if (nowMs % HEARTBEAT_INTERVAL_MS === 0) for (const peer of peers) liveness.handle({ kind: 'heartbeat', from: peer, nowMs, beat })
    commands.push(...liveness.handle({ kind: 'tick', nowMs }))
  }
  return commands
}

function hailOf (commands: readonly LivenessCommand[]): Extract<LivenessCommand, { kind: 'send-hail' }> {
  const hail = commands.find((command) => command.kind === 'send-hail')
  if (hail?.kind !== 'send-hail') throw new Error(`no hail in ${JSON.stringify(commands)}`)
  return hail
}

function indirectOf (commands: readonly LivenessCommand[]): Extract<LivenessCommand, { kind: 'send-indirect-hail' }> {
  const indirect = commands.find((command) => command.kind === 'send-indirect-hail')
  if (indirect?.kind !== 'send-indirect-hail') throw new Error(`no indirect hail in ${JSON.stringify(commands)}`)
  return indirect
}

test('a hung node is declared dead well within ten seconds', (t) => {
  t.true(DEAD_AFTER_SILENCE_MS < 10_000)
  t.true(HEARTBEAT_TIMEOUT_MS >= 3 * HEARTBEAT_INTERVAL_MS, 'a late beat or two is not silence')
})

test('a holder that keeps beating is never hailed', (t) => {
  const liveness = setUp()
  const commands: LivenessCommand[] = []
  for (let nowMs = 100; nowMs <= 20_000; nowMs += 100) {
    if (nowMs % HEARTBEAT_INTERVAL_MS === 0) liveness.handle({ kind: 'heartbeat', from: 'holder', nowMs, beat: holderBeat })
    commands.push(...liveness.handle({ kind: 'tick', nowMs }))
  }
  t.deepEqual(commands, [])
})

test('a silent holder is hailed; "yes" keeps it, with no verdict (delayed heartbeats are not death)', (t) => {
  const liveness = setUp()
  t.deepEqual(runTo(liveness, 100, HEARTBEAT_TIMEOUT_MS), [], 'silence up to the timeout is tolerated')
  const hail = hailOf(runTo(liveness, HEARTBEAT_TIMEOUT_MS + 100, HEARTBEAT_TIMEOUT_MS + 100))
  t.like(hail, { to: 'holder', lease })
  t.is(liveness.state('holder')?.kind, 'suspect')
  const answered = liveness.handle({ kind: 'hail-answered', from: 'holder', nowMs: 2_150, nonce: hail.nonce, answer: { rendering: lease, feedSeq: 4 }, heldSeq: 4 })
  t.deepEqual(answered, [])
  t.is(liveness.state('holder')?.kind, 'alive')
  t.deepEqual(runTo(liveness, 2_200, 4_100), [], 'a full timeout again before the next hail')
  t.is(liveness.dead().size, 0)
})

test('"no" frees the block at once, unless the holder\'s feed is ahead of ours', (t) => {
  const liveness = setUp()
  const hail = hailOf(runTo(liveness, 100, 2_100))
  const behind = liveness.handle({ kind: 'hail-answered', from: 'holder', nowMs: 2_150, nonce: hail.nonce, answer: { rendering: null, feedSeq: 5 }, heldSeq: 4 })
  t.deepEqual(behind, [], 'its log says what became of the lease: catch up first')
  t.false(liveness.isFreed('holder', lease))
  const again = hailOf(liveness.handle({ kind: 'hail-all', nowMs: 2_200 }))
  const freed = liveness.handle({ kind: 'hail-answered', from: 'holder', nowMs: 2_250, nonce: again.nonce, answer: { rendering: null, feedSeq: 5 }, heldSeq: 5 })
  t.deepEqual(freed, [{ kind: 'lease-freed', holder: 'holder', lease }])
  t.true(liveness.isFreed('holder', lease))
  t.is(liveness.dead().size, 0, 'it answered: it is alive, just not rendering that block')
})

test('an answer naming a later epoch of the same block covers the lease', (t) => {
  const liveness = setUp()
  const hail = hailOf(runTo(liveness, 100, 2_100))
  const later = { ...lease, epoch: lease.epoch + 1 }
  t.deepEqual(liveness.handle({ kind: 'hail-answered', from: 'holder', nowMs: 2_150, nonce: hail.nonce, answer: { rendering: later, feedSeq: 1 }, heldSeq: 1 }), [])
})

test('no answer: k other peers are asked, then the holder is declared dead; a heartbeat brings it back', (t) => {
  const liveness = setUp()
  const hail = hailOf(runTo(liveness, 100, 2_100))
  const escalated = runTo(liveness, 2_200, 2_100 + HAIL_TIMEOUT_MS)
  const indirect = escalated.find((command) => command.kind === 'send-indirect-hail')
  if (indirect?.kind !== 'send-indirect-hail') return t.fail(JSON.stringify(escalated))
  t.is(indirect.via.length, INDIRECT_HAIL_FANOUT)
  t.true(indirect.via.every((via) => peers.includes(via)), 'relays are live peers, never the holder')
  t.is(new Set(indirect.via).size, indirect.via.length)
  t.is(indirect.nonce, hail.nonce)
  const verdict = runTo(liveness, 3_200, 3_100 + INDIRECT_HAIL_TIMEOUT_MS)
  t.deepEqual(verdict, [{ kind: 'declare-dead', peer: 'holder', leases: [lease] }])
  t.deepEqual([...liveness.dead()], ['holder'])
  t.false(liveness.live(4_200).some(({ peer }) => peer === 'holder'))
  liveness.handle({ kind: 'heartbeat', from: 'holder', nowMs: 5_000, beat })
  t.deepEqual([...liveness.dead()], [])
})

test('an indirect "yes" keeps the holder alive', (t) => {
  const liveness = setUp()
  const hail = hailOf(runTo(liveness, 100, 2_100))
  const [relay] = indirectOf(runTo(liveness, 2_200, 3_100)).via
  if (relay === undefined) return t.fail()
  const answered = liveness.handle({ kind: 'indirect-hail-answered', from: relay, nowMs: 3_300, target: 'holder', nonce: hail.nonce, answer: { rendering: lease, feedSeq: 0 }, heldSeq: 0 })
  t.deepEqual(answered, [])
  t.deepEqual(runTo(liveness, 3_200, 4_200), [])
  t.is(liveness.dead().size, 0)
})

test('a relay hails the target for the asker and passes the answer back under the asker\'s nonce', (t) => {
  const liveness = setUp()
  const [hail] = liveness.handle({ kind: 'indirect-hail-requested', from: 'p1', nowMs: 100, target: 'holder', nonce: 77, lease })
  if (hail?.kind !== 'send-hail') return t.fail()
  t.like(hail, { to: 'holder', lease })
  const answer = { rendering: lease, feedSeq: 3 }
  const relayed = liveness.handle({ kind: 'hail-answered', from: 'holder', nowMs: 120, nonce: hail.nonce, answer, heldSeq: 3 })
  t.deepEqual(relayed, [{ kind: 'send-indirect-answer', to: 'p1', target: 'holder', nonce: 77, answer }])
})

test('a dropped connection hails a holder at once; a non-holder just stops being a candidate', (t) => {
  const liveness = setUp()
  t.like(hailOf(liveness.handle({ kind: 'peer-disconnected', peer: 'holder', nowMs: 300 })), { to: 'holder' })
  t.deepEqual(liveness.handle({ kind: 'peer-disconnected', peer: 'p2', nowMs: 300 }), [])
  t.false(liveness.live(300).some(({ peer }) => peer === 'p2'))
})

test('an idle peer beating at the idle pace stays a candidate; a holder\'s beat goes stale at the heartbeat timeout', (t) => {
  t.true(IDLE_HEARTBEAT_TIMEOUT_MS >= 2.5 * IDLE_HEARTBEAT_INTERVAL_MS, 'a late idle beat or two is not silence')
  const liveness = setUp()
  const livePeers = (nowMs: number): string[] => liveness.live(nowMs).map(({ peer }) => peer)
  t.true(livePeers(IDLE_HEARTBEAT_INTERVAL_MS + 1_000).includes('p1'), 'one idle beat late')
  t.false(livePeers(HEARTBEAT_TIMEOUT_MS + 100).includes('holder'), 'a holder must beat at the full rate')
  t.false(livePeers(IDLE_HEARTBEAT_TIMEOUT_MS + 100).includes('p1'), 'three idle beats missed')
})

test('the live list follows every change of standing, however often it is asked for', (t) => {
  const liveness = setUp()
  const livePeers = (nowMs: number): string[] => liveness.live(nowMs).map(({ peer }) => peer)
  const first = liveness.live(100)
  t.is(liveness.live(200), first, 'nothing changed: the same list, not a new one')
  const revision = liveness.liveRevision
  liveness.handle({ kind: 'heartbeat', from: 'p1', nowMs: 300, beat })
  t.is(liveness.live(300), first, 'a beat that says what it said before changes nothing')
  t.is(liveness.liveRevision, revision)
  liveness.handle({ kind: 'heartbeat', from: 'p1', nowMs: 400, beat: { ...beat, mayRender: false } })
  t.like(liveness.live(400).find(({ peer }) => peer === 'p1'), { beat: { mayRender: false } }, 'news is seen at once')
  t.true(liveness.liveRevision > revision)
  t.false(livePeers(IDLE_HEARTBEAT_TIMEOUT_MS + 100).includes('p2'), 'a peer silent too long drops out when the time comes')
  // Back with the very beat it last sent: silence ended, so it is live again.
  liveness.handle({ kind: 'heartbeat', from: 'p2', nowMs: IDLE_HEARTBEAT_TIMEOUT_MS + 200, beat })
  t.true(livePeers(IDLE_HEARTBEAT_TIMEOUT_MS + 200).includes('p2'))
  liveness.handle({ kind: 'peer-disconnected', peer: 'p2', nowMs: IDLE_HEARTBEAT_TIMEOUT_MS + 300 })
  t.false(livePeers(IDLE_HEARTBEAT_TIMEOUT_MS + 300).includes('p2'), 'a dropped connection takes it off')
  liveness.handle({ kind: 'heartbeat', from: 'newcomer', nowMs: IDLE_HEARTBEAT_TIMEOUT_MS + 400, beat })
  t.true(livePeers(IDLE_HEARTBEAT_TIMEOUT_MS + 400).includes('newcomer'), 'a new peer is seen at once')
})

test('a node hails only the holders it watches, asking again while one stays silent, so watchers that change take over the hail', (t) => {
  let watched = false
  const asked: string[] = []
  const liveness = new Liveness({ self: 'self', random: () => 0.5, watches: (holder, about) => { asked.push(`${holder} ${about.block}`); return watched } })
  liveness.observeLeases(new Map([['holder', [lease]]]))
  liveness.handle({ kind: 'tick', nowMs: 0 })
  liveness.handle({ kind: 'heartbeat', from: 'holder', nowMs: 0, beat: holderBeat })
  t.deepEqual(liveness.handle({ kind: 'peer-disconnected', peer: 'holder', nowMs: 100 }), [], 'not ours: its dropped connection is no hail of ours')
  const silentAt = HEARTBEAT_TIMEOUT_MS + 100
  const ticks: LivenessCommand[] = []
  for (let nowMs = 100; nowMs <= silentAt; nowMs += 100) ticks.push(...liveness.handle({ kind: 'tick', nowMs }))
  t.deepEqual(ticks, [], 'not ours: its silence is no hail of ours either')
  t.is(liveness.nextDueMs(), silentAt + UNWATCHED_RECHECK_MS, 'asked again later, not on every tick')
  t.deepEqual(liveness.handle({ kind: 'tick', nowMs: silentAt + 100 }), [])
  t.deepEqual(asked, [`holder ${lease.block}`, `holder ${lease.block}`])
  watched = true
  t.like(hailOf(liveness.handle({ kind: 'tick', nowMs: silentAt + UNWATCHED_RECHECK_MS })), { to: 'holder', lease }, 'ours now (a watcher went): hailed')
})

test('a controller starting up hails every holder', (t) => {
  const liveness = new Liveness({ self: 'controller', random: () => 0 })
  liveness.observeLeases(new Map([['a', [lease]], ['b', [{ ...lease, block: 4 }]], ['controller', [lease]]]))
  const hails = liveness.handle({ kind: 'hail-all', nowMs: 0 })
  t.deepEqual(hails.map((command) => command.kind === 'send-hail' ? command.to : command.kind), ['a', 'b'])
})

test('after its own pause a node does not blame its peers for the silence', (t) => {
  const liveness = setUp()
  runTo(liveness, 100, 1_000)
  t.deepEqual(liveness.handle({ kind: 'tick', nowMs: 9_000 }), [], 'the first tick after the pause')
  t.is(liveness.state('holder')?.kind, 'alive')
  t.true(liveness.live(9_000).length > 0)
})

test('an unsolicited "no" from a holder we never hailed frees nothing, is not even heard, and is refused', (t) => {
  const liveness = setUp()
  // The nonce it would have guessed under sequential nonces, and the one we would draw next.
  for (const nonce of [1, 2 ** 52]) {
    const answered = liveness.handle({ kind: 'hail-answered', from: 'holder', nowMs: 100, nonce, answer: { rendering: null, feedSeq: 0 }, heldSeq: 0 })
    t.deepEqual(answered, [{ kind: 'answer-refused', from: 'holder', why: 'unsolicited' }])
  }
  t.false(liveness.isFreed('holder', lease))
  t.like(liveness.state('holder'), { kind: 'alive', lastHeardMs: 0 })
  t.like(hailOf(runTo(liveness, 100, 2_100)), { to: 'holder' }, 'its silence still counts from its last heartbeat')
})

test('an answer under the wrong nonce frees nothing and does not stop the probe from escalating to dead', (t) => {
  const liveness = setUp()
  const hail = hailOf(runTo(liveness, 100, 2_100))
  const wrong = liveness.handle({ kind: 'hail-answered', from: 'holder', nowMs: 2_150, nonce: hail.nonce + 1, answer: { rendering: null, feedSeq: 0 }, heldSeq: 0 })
  t.deepEqual(wrong, [{ kind: 'answer-refused', from: 'holder', why: 'wrong-nonce' }])
  t.false(liveness.isFreed('holder', lease))
  t.is(liveness.state('holder')?.kind, 'suspect')
  const commands = runTo(liveness, 2_200, 3_100 + INDIRECT_HAIL_TIMEOUT_MS)
  t.deepEqual(commands.map((command) => command.kind), ['send-indirect-hail', 'declare-dead'])
  t.deepEqual([...liveness.dead()], ['holder'])
})

test('a direct answer that comes late, while the relays are asked, still counts', (t) => {
  const liveness = setUp()
  const hail = hailOf(runTo(liveness, 100, 2_100))
  indirectOf(runTo(liveness, 2_200, 3_100))
  const late = liveness.handle({ kind: 'hail-answered', from: 'holder', nowMs: 3_150, nonce: hail.nonce, answer: { rendering: null, feedSeq: 0 }, heldSeq: 0 })
  t.deepEqual(late, [{ kind: 'lease-freed', holder: 'holder', lease }])
  t.is(liveness.state('holder')?.kind, 'alive')
})

test('an indirect answer counts only from a relay we chose, under the probe\'s nonce', (t) => {
  const liveness = setUp()
  const no = { rendering: null, feedSeq: 0 }
  const hail = hailOf(runTo(liveness, 100, 2_100))
  const early = liveness.handle({ kind: 'indirect-hail-answered', from: 'p1', nowMs: 2_150, target: 'holder', nonce: hail.nonce, answer: no, heldSeq: 0 })
  t.deepEqual(early, [{ kind: 'answer-refused', from: 'p1', why: 'unsolicited' }], 'no relay was asked yet')
  const { via } = indirectOf(runTo(liveness, 2_200, 3_100))
  const [relay, other] = via
  const outsider = peers.find((peer) => !via.includes(peer))
  if (relay === undefined || other === undefined || outsider === undefined) return t.fail(JSON.stringify(via))
  const fromOutsider = liveness.handle({ kind: 'indirect-hail-answered', from: outsider, nowMs: 3_150, target: 'holder', nonce: hail.nonce, answer: no, heldSeq: 0 })
  t.deepEqual(fromOutsider, [{ kind: 'answer-refused', from: outsider, why: 'not-a-relay' }])
  const wrongNonce = liveness.handle({ kind: 'indirect-hail-answered', from: relay, nowMs: 3_160, target: 'holder', nonce: hail.nonce + 1, answer: no, heldSeq: 0 })
  t.deepEqual(wrongNonce, [{ kind: 'answer-refused', from: relay, why: 'wrong-nonce' }])
  t.false(liveness.isFreed('holder', lease))
  t.is(liveness.state('holder')?.kind, 'suspect')
  const counted = liveness.handle({ kind: 'indirect-hail-answered', from: relay, nowMs: 3_170, target: 'holder', nonce: hail.nonce, answer: no, heldSeq: 0 })
  t.deepEqual(counted, [{ kind: 'lease-freed', holder: 'holder', lease }])
  t.true(liveness.isFreed('holder', lease))
  t.is(liveness.state('holder')?.kind, 'alive')
  const duplicate = liveness.handle({ kind: 'indirect-hail-answered', from: other, nowMs: 3_180, target: 'holder', nonce: hail.nonce, answer: no, heldSeq: 0 })
  t.deepEqual(duplicate, [], 'the other relays\' answers to the same probe are expected, not refused')
})

test('nonces come from random, differ across probes, and never clash with a pending one', (t) => {
  const draws = [0.25, 0.5, 1 - 2 ** -53]
  const liveness = new Liveness({ self: 'controller', random: () => draws.shift() ?? 0 })
  liveness.observeLeases(new Map([['a', [lease]], ['b', [{ ...lease, block: 4 }]], ['c', [{ ...lease, block: 5 }]], ['d', [{ ...lease, block: 6 }]], ['e', [{ ...lease, block: 7 }]]]))
  const nonces = liveness.handle({ kind: 'hail-all', nowMs: 0 }).map((command) => command.kind === 'send-hail' ? command.nonce : -1)
  t.deepEqual(nonces, [2 ** 51, 2 ** 52, Number.MAX_SAFE_INTEGER, 0, 1], 'uniform over [0, MAX_SAFE_INTEGER]; a clash steps to the next free one')

  const constant = new Liveness({ self: 'controller', random: () => 0.5 })
  constant.observeLeases(new Map([['a', [lease]]]))
  const first = hailOf(constant.handle({ kind: 'hail-all', nowMs: 0 }))
  const relayed = constant.handle({ kind: 'indirect-hail-requested', from: 'p1', nowMs: 10, target: 'a', nonce: 9, lease })
  t.notDeepEqual(hailOf(relayed).nonce, first.nonce, 'the relay\'s hail gets a nonce of its own')
  constant.handle({ kind: 'hail-answered', from: 'a', nowMs: 20, nonce: first.nonce, answer: { rendering: lease, feedSeq: 0 }, heldSeq: 0 })
  const second = hailOf(constant.handle({ kind: 'hail-all', nowMs: 30 }))
  t.not(second.nonce, first.nonce, 'an answered probe\'s nonce is not reused while its late answers may arrive')
})

test('a relay passes back only its target\'s answer to its own hail', (t) => {
  const liveness = setUp()
  const hail = hailOf(liveness.handle({ kind: 'indirect-hail-requested', from: 'p1', nowMs: 100, target: 'holder', nonce: 77, lease }))
  const forged = liveness.handle({ kind: 'hail-answered', from: 'p2', nowMs: 110, nonce: hail.nonce, answer: { rendering: null, feedSeq: 0 }, heldSeq: 0 })
  t.deepEqual(forged, [{ kind: 'answer-refused', from: 'p2', why: 'unsolicited' }])
  const wrong = liveness.handle({ kind: 'hail-answered', from: 'holder', nowMs: 115, nonce: hail.nonce + 1, answer: { rendering: null, feedSeq: 0 }, heldSeq: 0 })
  t.deepEqual(wrong, [{ kind: 'answer-refused', from: 'holder', why: 'wrong-nonce' }])
  t.false(liveness.isFreed('holder', lease))
})

test('relay requests beyond the bounds are dropped, and only holders are hailed for others', (t) => {
  const liveness = setUp()
  const request = (from: string, nowMs: number, target = 'holder') =>
    liveness.handle({ kind: 'indirect-hail-requested', from, nowMs, target, nonce: 5, lease })
  t.deepEqual(request('p1', 100, 'p2'), [], 'p2 holds no lease')
  t.deepEqual(request('p1', 100, 'self'), [], 'we are never asked to hail ourselves')
  t.deepEqual(request('holder', 100), [], 'nor a peer on its own behalf')
  for (let index = 0; index < MAX_RELAYS_PER_REQUESTER; index++) t.like(hailOf(request('p1', 100)), { to: 'holder' })
  t.deepEqual(request('p1', 100), [], 'a few per requester')
  let accepted = MAX_RELAYS_PER_REQUESTER
  for (let index = 0; accepted < MAX_PENDING_RELAYS; index++) {
    for (let each = 0; each < MAX_RELAYS_PER_REQUESTER && accepted < MAX_PENDING_RELAYS; each++, accepted++) hailOf(request(`asker-${index}`, 200))
  }
  t.deepEqual(request('p2', 200), [], 'and a bound on all of them')
  liveness.handle({ kind: 'tick', nowMs: 100 + HAIL_TIMEOUT_MS })
  t.like(hailOf(request('p1', 100 + HAIL_TIMEOUT_MS)), { to: 'holder' }, 'timed-out relays make room')
})

test('peers that hold nothing are forgotten once dead or long silent; holders are kept', (t) => {
  const liveness = setUp()
  runTo(liveness, 100, 2_100)
  runTo(liveness, 2_200, 3_100 + INDIRECT_HAIL_TIMEOUT_MS)
  t.deepEqual([...liveness.dead()], ['holder'])
  runTo(liveness, 4_200, 4_300)
  t.is(liveness.state('holder')?.kind, 'dead', 'its lease is still in the log: it stays dead')
  liveness.observeLeases(new Map())
  runTo(liveness, 4_400, 4_400)
  t.is(liveness.state('holder'), undefined, 'its block was taken over: nothing to remember it for')
  t.deepEqual([...liveness.dead()], [])

  const quiet = new Liveness({ self: 'self', random: () => 0.5 })
  quiet.observeLeases(new Map([['holder', [lease]]]))
  quiet.handle({ kind: 'heartbeat', from: 'gone', nowMs: 0, beat })
  for (let nowMs = 0; nowMs <= FORGET_SILENT_PEER_MS + 1_000; nowMs += 1_000) {
    quiet.handle({ kind: 'heartbeat', from: 'holder', nowMs, beat: holderBeat })
    quiet.handle({ kind: 'tick', nowMs })
    if (nowMs === FORGET_SILENT_PEER_MS) t.like(quiet.state('gone'), { kind: 'alive' }, 'not before its time')
  }
  t.is(quiet.state('gone'), undefined)
  t.like(quiet.state('holder'), { kind: 'alive' })
  quiet.handle({ kind: 'heartbeat', from: 'gone', nowMs: FORGET_SILENT_PEER_MS + 1_100, beat })
  t.true(quiet.live(FORGET_SILENT_PEER_MS + 1_100).some(({ peer }) => peer === 'gone'), 'a heartbeat brings it back')
})

test('ticked only when nextDueMs says, or every IDLE_TICK_MS, liveness hails, escalates and judges a silent holder when a tick every millisecond would', (t) => {
  const everyMs = setUp()
  const whenDue = setUp()
  const byEveryMs: string[] = []
  const byWhenDue: string[] = []
  let lastTickMs = 0
  for (let nowMs = 1; nowMs <= DEAD_AFTER_SILENCE_MS + 1_000; nowMs++) {
    if (nowMs % HEARTBEAT_INTERVAL_MS === 0) {
      for (const liveness of [everyMs, whenDue]) for (const peer of peers) liveness.handle({ kind: 'heartbeat', from: peer, nowMs, beat })
    }
    byEveryMs.push(...everyMs.handle({ kind: 'tick', nowMs }).map((command) => `${nowMs} ${command.kind}`))
    if (nowMs < Math.min(whenDue.nextDueMs() ?? Number.POSITIVE_INFINITY, lastTickMs + IDLE_TICK_MS)) continue
    lastTickMs = nowMs
    byWhenDue.push(...whenDue.handle({ kind: 'tick', nowMs }).map((command) => `${nowMs} ${command.kind}`))
  }
  t.deepEqual(byEveryMs.map((line) => line.split(' ')[1]), ['send-hail', 'send-indirect-hail', 'declare-dead'])
  t.deepEqual(byWhenDue, byEveryMs)
  t.is(whenDue.nextDueMs(), null, 'nothing is due once the holder is judged')
})
