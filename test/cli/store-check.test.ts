/**
 * `cr store check` as an operator runs it: a real process on a real store on disk.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { execa } from 'execa'
import { Level } from 'level'
import { loadOrCreateIdentity } from '../../src/node/identity.js'
import { EventStore, storeDirOf } from '../../src/node/store/event-store.js'
import { signerFromKey } from '../../src/protocol/signing.js'
import { jobSpec } from '../helpers/farm-events.js'
import { nth } from '../helpers/nth.js'

const cr = path.resolve('bin/cr.js')

async function nodeDir (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-cli-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const store = await EventStore.open(storeDirOf(dir), signerFromKey(await loadOrCreateIdentity(dir)))
  const { event: submitted } = await store.append({ type: 'job.submitted', job: jobSpec() }, 1)
  if (submitted.event.body.type !== 'job.submitted') throw new Error('a submission wrote another kind of event')
  await store.append({ type: 'block.claimed', jobId: submitted.event.body.job.id, block: 0, epoch: 1 }, 2)
  await store.close()
  return dir
}

test('a healthy store checks out consistent, for people and for scripts', async (t) => {
  const dir = await nodeDir(t)
  const json = await execa(process.execPath, [cr, 'store', 'check', '--json', dir])
  t.like(JSON.parse(json.stdout), { events: 2, authors: 1, consistent: true })
  const human = await execa(process.execPath, [cr, 'store', 'check', dir])
  t.regex(human.stdout, /2 events from 1 authors[\s\S]*consistent/)
})

test('a damaged event fails the check with exit 3 and the key that is wrong', async (t) => {
  const dir = await nodeDir(t)
  const raw = new Level<string, Uint8Array>(storeDirOf(dir), { valueEncoding: 'view' })
  const events = raw.sublevel<string, Uint8Array>('events', { valueEncoding: 'view' })
  await events.put(nth(await events.keys().all(), 1), new Uint8Array([0xa0]))
  await raw.close()
  const result = await execa(process.execPath, [cr, 'store', 'check', dir], { reject: false })
  t.is(result.exitCode, 3)
  t.regex(result.stderr, /corrupt at events\/.+!0000000000000002/)
})

test('a directory that is not a node\'s is refused without creating anything', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-cli-empty-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const result = await execa(process.execPath, [cr, 'store', 'check', dir], { reject: false })
  // A data dir without a node's key is input to fix, not a failure of the store: exit 2.
  t.is(result.exitCode, 2)
  t.regex(result.stderr, /identity\.key: missing/)
  const usage = await execa(process.execPath, [cr, 'store', 'check'], { reject: false })
  t.is(usage.exitCode, 2)
})
