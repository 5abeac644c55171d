/**
 * The mesh's wire formats: sync frames and ephemeral messages round-trip, and untrusted
 * bytes that are not canonical CBOR, break a schema or exceed a limit are refused with a
 * typed error that says why.
 */
import { randomUUID } from 'node:crypto'
import test from 'ava'
import { decodeEphemeral, encodeEphemeral, EPHEMERAL_MAX_BYTES, type EphemeralMessage } from '../../../src/node/mesh/ephemeral.js'
import { InvalidEphemeralMessageError, SyncProtocolError } from '../../../src/node/mesh/errors.js'
import { decodeToPuller, decodeToServer, encodeFrame, MAX_VECTOR_AUTHORS, MIN_BATCH_BYTES, type SyncFrame } from '../../../src/node/mesh/wire.js'
import { encodeCanonical } from '../../../src/protocol/encoding.js'
import { makeSigners } from '../../helpers/farm-events.js'

const PEER = '12D3KooWEyoppNCUx8Yx66oV9fJnriXgFJbPz6ZgTmhCyxXnXW4s'

test('each sync frame round-trips in the direction it travels', async (t) => {
  const [signer] = await makeSigners(1)
  const vv = { [signer?.author ?? '']: 7 }
  const pull: SyncFrame = { t: 'pull', vv, window: 4, maxBatchEvents: 100, maxBatchBytes: MIN_BATCH_BYTES, maxEvents: 1000 }
  t.deepEqual(decodeToServer(encodeFrame(pull), PEER), pull)
  t.deepEqual(decodeToServer(encodeFrame({ t: 'credit', n: 1 }), PEER), { t: 'credit', n: 1 })
  t.deepEqual(decodeToPuller(encodeFrame({ t: 'have', vv }), PEER), { t: 'have', vv })
  const events: SyncFrame = { t: 'events', events: [new Uint8Array([1, 2, 3])] }
  t.deepEqual(decodeToPuller(encodeFrame(events), PEER), events)
  t.deepEqual(decodeToPuller(encodeFrame({ t: 'done' }), PEER), { t: 'done' })
})

test('bad sync frames are protocol offences that name the peer and the fault', (t) => {
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array([0xff, 0x00, 0x13]), /not canonical CBOR/],
    [encodeCanonical({ t: 'have', vv: {} }), /t/],
    [encodeCanonical({ t: 'pull', vv: { 'not a peer id': 1 }, window: 1, maxBatchEvents: 1, maxBatchBytes: MIN_BATCH_BYTES, maxEvents: 1 }), /vv/],
    [encodeCanonical({ t: 'pull', vv: {}, window: 1000, maxBatchEvents: 1, maxBatchBytes: MIN_BATCH_BYTES, maxEvents: 1 }), /window/],
    [encodeCanonical({ t: 'pull', vv: {}, window: 1, maxBatchEvents: 1, maxBatchBytes: 10, maxEvents: 1 }), /maxBatchBytes/],
    [encodeCanonical({ t: 'credit', n: 0 }), /n/],
    [encodeCanonical({ t: 'credit', n: 1, extra: true }), /extra|unrecognized/i]
  ]
  for (const [bytes, why] of cases) {
    const error = t.throws(() => decodeToServer(bytes, PEER), { instanceOf: SyncProtocolError })
    t.is(error.peer, PEER)
    t.regex(error.why, why)
  }
  t.throws(() => decodeToPuller(encodeCanonical({ t: 'events', events: [] }), PEER), { instanceOf: SyncProtocolError })
  t.throws(() => decodeToPuller(encodeCanonical({ t: 'pull' }), PEER), { instanceOf: SyncProtocolError })
})

test('a version vector with too many authors is refused', (t) => {
  const vv: Record<string, number> = {}
  const base58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  for (let index = 0; index <= MAX_VECTOR_AUTHORS; index++) {
    let name = ''
    for (let rest = index; rest > 0; rest = Math.floor(rest / 58)) name = `${base58[rest % 58] ?? ''}${name}`
    vv[`12D3KooW${name.padStart(44, '1')}`] = 1
  }
  const error = t.throws(() => decodeToPuller(encodeCanonical({ t: 'have', vv }), PEER), { instanceOf: SyncProtocolError })
  t.regex(error.why, /authors/)
})

test('a heartbeat round-trips; bad ones are refused on the way out and on the way in', (t) => {
  const heartbeat: EphemeralMessage = {
    type: 'heartbeat', status: 'RENDERING', lease: { jobId: randomUUID(), block: 3, epoch: 2 }, progressPct: 12.5, idle: false, mayRender: true, feedSeq: 40, sentAtMs: 1_700_000_000_000
  }
  const bytes = encodeEphemeral(heartbeat)
  t.deepEqual(decodeEphemeral(bytes), heartbeat)
  t.true(bytes.length < 200)
  t.throws(() => encodeEphemeral({ ...heartbeat, progressPct: 101 }), { instanceOf: InvalidEphemeralMessageError, message: /progressPct/ })
  t.throws(() => decodeEphemeral(encodeCanonical({ ...heartbeat, status: 'ASLEEP' })), { instanceOf: InvalidEphemeralMessageError, message: /status/ })
  t.throws(() => decodeEphemeral(encodeCanonical({ ...heartbeat, type: 'gossip' })), { instanceOf: InvalidEphemeralMessageError })
  t.throws(() => decodeEphemeral(new Uint8Array(EPHEMERAL_MAX_BYTES + 1)), { instanceOf: InvalidEphemeralMessageError, message: /exceeds/ })
  t.throws(() => decodeEphemeral(new Uint8Array([0x1f])), { instanceOf: InvalidEphemeralMessageError, message: /CBOR/ })
})
