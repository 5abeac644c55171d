/**
 * A remote fact that breaks an authority rule is kept (its author's chain is sound) but
 * has no effect, and the store says so, with the author and the reason, for the node's log.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { encodeEvent } from '../../../src/protocol/encoding.js'
import { EventStore, type RefusedFact } from '../../../src/node/store/event-store.js'
import { makeSigners, World } from '../../helpers/farm-events.js'
import { nth } from '../../helpers/nth.js'

const signers = await makeSigners(3)

test('a rogue\'s edit of another artist\'s job is taken in, has no effect, and is reported with its author and reason', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-refused-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const farm = new World(signers)
  const job = farm.submit(1, { priority: 30 })
  farm.sync(2)
  const edit = farm.write(2, { type: 'job.edited', jobId: job.id, changes: { priority: 99 } })
  const store = await EventStore.open(dir, nth(signers, 0), { authority: { founder: farm.author(0) } })
  t.teardown(async () => { await store.close() })
  const refused: RefusedFact[] = []
  store.onRefusedFact((fact) => refused.push(fact))
  const outcomes = await store.ingestBatch(farm.events.map((verified) => encodeEvent(verified.event)))
  t.deepEqual(outcomes.map((outcome) => outcome.kind), ['appended', 'appended'])
  t.is(store.view().jobs[0]?.priority, 30)
  t.is(refused.length, 1)
  t.like(refused[0], { author: farm.author(2), seq: edit.event.seq, type: 'job.edited', refusal: { reason: 'not-job-owner' } })
})
