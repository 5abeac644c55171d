/**
 * Several `cr` commands at once on one data directory, as an artist with two terminals
 * runs them: a `cr logs --follow` holds the store, and the other commands are answered by
 * it over the local endpoint instead of failing on the store's lock. A write made through
 * it shows up in the follow, and stays one feed with one writer.
 */
import anyTest, { type TestFn } from 'ava'
import { EventStore, storeDirOf } from '../../src/node/store/event-store.js'
import { loadIdentity } from '../../src/node/identity.js'
import { signerFromKey } from '../../src/protocol/signing.js'
import { waitUntil } from '../helpers/peer-process.js'
import { controllerDir, crAt, spawnCr, startCliFarm, type CliFarm as Farm } from '../fixtures/cli/cr.js'

const test = anyTest as TestFn<Farm>

test.before(async (t) => {
  t.context = await startCliFarm('shot070.blend')
})

test.after.always(async (t) => {
  await t.context.bed.destroy()
})

test.serial('two reads, a write and a logs --follow run at once on one data dir', async (t) => {
  const farm = t.context
  const follow = spawnCr(farm.bed, 'artist', ['logs', '--follow'])
  let followed = ''
  follow.stdout.on('data', (chunk: Buffer) => { followed += chunk.toString() })
  // The follow holds the store once its local endpoint answers.
  await waitUntil(async () => (await crAt(farm.bed, 'artist', ['jobs'])).exitCode === 0 ? true : undefined, 'the follow to hold the data dir and answer')
  const [jobs, nodes, submitted] = await Promise.all([
    crAt(farm.bed, 'artist', ['jobs', '--json']),
    crAt(farm.bed, 'artist', ['nodes', '--json']),
    crAt(farm.bed, 'artist', ['submit', '--name', 'shot070', '--project', 'feature', '--software', 'blender', '--scene', farm.scene, '--target', '/renders/shot070', '--frames', '1-2'])
  ])
  t.is(jobs.exitCode, 0, jobs.stderr)
  t.is(nodes.exitCode, 0, nodes.stderr)
  t.is(submitted.exitCode, 0, submitted.stderr)
  t.true((JSON.parse(nodes.stdout) as { name: string }[]).some((node) => node.name === 'render-01'))
  const shortId = /job ([0-9a-f]{8})/.exec(submitted.stdout)?.[1] ?? ''
  await waitUntil(async () => Promise.resolve(followed.includes('submitted shot070') ? true : undefined), 'the follow to print the submission')
  const listed = await crAt(farm.bed, 'artist', ['jobs'])
  t.regex(listed.stdout, new RegExp(`${shortId} +shot070`))
  follow.kill('SIGINT')
  const ended = await follow
  t.is(ended.exitCode, 0, ended.stderr)
  // One writer: the artist's feed in its own store is whole, the submission in it once.
  const store = await EventStore.open(storeDirOf(controllerDir(farm.bed, 'artist')), signerFromKey(await loadIdentity(controllerDir(farm.bed, 'artist'), { create: false })))
  try {
    const ours = await store.readFeed(store.author, 1, 1000)
    t.is(ours.length, store.versionVector()[store.author] ?? 0)
    t.is(store.view().jobs.filter((job) => job.name === 'shot070').length, 1)
  } finally {
    await store.close()
  }
})
