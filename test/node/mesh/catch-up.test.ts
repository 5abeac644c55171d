/**
 * A peer stopped while the others write 10,000 events restarts with its data and catches
 * up exactly: the same events (version vector) and the same state as the peers that
 * never left, through pull alone (the events were gossiped while it was away).
 */
import test from 'ava'
import { eventCount } from '../../../src/protocol/version-vector.js'
import { converged, MeshTestbed } from '../../helpers/mesh-testbed.js'

const WRITTEN_WHILE_AWAY = 10_000
/**
 * Writes go in requests of this many, each under the peer's hang guard: on a loaded
 * 2-core machine 5,000 appends in one request outran the guard without hanging.
 */
const WRITE_CHUNK = 1_000

let bed: MeshTestbed | undefined

test.after.always(async () => {
  await bed?.destroy()
})

test('a peer stopped while others write 10,000 events restarts and catches up exactly', async (t) => {
  t.timeout(180_000)
  bed = await MeshTestbed.create()
  const [a, b, c] = await Promise.all([bed.start('a'), bed.start('b'), bed.start('c')])
  await Promise.all([a, b, c].map(async (peer) => peer.request('write', { count: 10 })))
  const before = await converged([a, b, c], 30)

  await c.stop()
  for (let written = 0; written < WRITTEN_WHILE_AWAY; written += 2 * WRITE_CHUNK) {
    await Promise.all([a.request('write', { count: WRITE_CHUNK }), b.request('write', { count: WRITE_CHUNK })])
  }
  const stayed = await converged([a, b], eventCount(before.vv) + WRITTEN_WHILE_AWAY)

  const back = await bed.start('c')
  t.is(back.id, c.id, 'the restarted peer keeps its identity')
  const caughtUp = await converged([a, b, back], eventCount(stayed.vv))
  t.deepEqual(caughtUp.vv, stayed.vv)
  t.is(caughtUp.stateHash, stayed.stateHash)
  t.is(eventCount(caughtUp.vv), eventCount(before.vv) + WRITTEN_WHILE_AWAY)
})
