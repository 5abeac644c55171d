/**
 * The local endpoint on a real store and a real Unix socket: another command of the same
 * data directory reads the holder's live copy and writes through the holder's one store;
 * a garbled or oversized frame costs only its own connection; a socket file left by a
 * killed holder is taken for nobody, and the next holder replaces it.
 */
import { connect } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { silentLogger } from '../../../src/node/log.js'
import { LocalClient } from '../../../src/node/local/client.js'
import { CLOSE_GRACE_MS, farmFingerprint, LocalEndpoint, socketPathOf, type LocalFarm } from '../../../src/node/local/endpoint.js'
import { HolderGoneError, HolderRefusedError } from '../../../src/node/local/errors.js'
import { EventStore } from '../../../src/node/store/event-store.js'
import { logEntryOf, type LogEntry } from '../../../src/protocol/logs.js'
import { jobSpec, makeSigners } from '../../helpers/farm-events.js'
import { nth } from '../../helpers/nth.js'

const signer = nth(await makeSigners(1), 0)

interface Held {
  readonly dataDir: string
  readonly store: EventStore
  readonly endpoint: LocalEndpoint
}

/** A store held by this test, served as a controller (writable) or a render node (read-only) serves its own; writes take `writeDelayMs`. */
function farmOf (store: EventStore, writable: boolean, writeDelayMs = 0): LocalFarm {
  const entries = async (): Promise<LogEntry[]> => {
    const rows: LogEntry[] = []
    for await (const verified of store.allEvents()) {
      const entry = logEntryOf(verified)
      if (entry !== null) rows.push(entry)
    }
    return rows
  }
  return {
    peerId: store.author,
    farm: farmFingerprint(new Uint8Array(32)),
    addresses: () => ['/ip4/127.0.0.1/tcp/4001'],
    reachedPeer: () => true,
    view: () => store.view(),
    livePeers: () => new Set(['12D3KooWPeerThatIsUp']),
    clockSkewOf: () => null,
    logs: entries,
    followLogs: (_filter, listener) => store.onAppended((verified) => {
      const entry = logEntryOf(verified)
      if (entry !== null) listener(entry)
    }),
    ...(writable
      ? {
          write: async (body) => {
            await new Promise((resolve) => setTimeout(resolve, writeDelayMs))
            return (await store.append(body, Date.now())).event
          }
        }
      : {}),
    refusalOf: (error) => ({ kind: 'failed', message: String(error) })
  }
}

async function hold (t: { teardown: (fn: () => Promise<void>) => void }, writable = true, writeDelayMs = 0): Promise<Held> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cr-local-'))
  const store = await EventStore.open(path.join(dataDir, 'store'), signer)
  const endpoint = await LocalEndpoint.open(dataDir, farmOf(store, writable, writeDelayMs), silentLogger())
  if (endpoint === null) throw new Error('the temp dir path is too long for a socket')
  t.teardown(async () => {
    await endpoint.close()
    await store.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  return { dataDir, store, endpoint }
}

async function client (t: { teardown: (fn: () => void) => void }, dataDir: string): Promise<LocalClient> {
  const connected = await LocalClient.connect(dataDir)
  if (connected === null) throw new Error(`nobody holds ${dataDir}`)
  t.teardown(() => { connected.close() })
  return connected
}

test('a command reads the holder\'s live view, and writes through the holder\'s store as the holder\'s identity', async (t) => {
  const { dataDir, store } = await hold(t)
  const asker = await client(t, dataDir)
  const written = await asker.write({ type: 'job.submitted', job: jobSpec({ name: 'through_the_holder' }) }, 5_000)
  t.is(written.event.author, store.author)
  t.is(written.event.seq, 1)
  t.is(written.authenticated, 'signature')
  const snapshot = await asker.snapshot()
  t.deepEqual(snapshot.view, store.view())
  t.deepEqual(snapshot.livePeers, ['12D3KooWPeerThatIsUp'])
  t.like(snapshot, { peerId: store.author, reachedPeer: true, writable: true, farm: farmFingerprint(new Uint8Array(32)) })
  t.deepEqual(snapshot.addresses, ['/ip4/127.0.0.1/tcp/4001'])
  // Who the holder is, without the farm view.
  t.deepEqual(await asker.hello(), { peerId: store.author, farm: farmFingerprint(new Uint8Array(32)), addresses: ['/ip4/127.0.0.1/tcp/4001'], writable: true })
  t.deepEqual((await asker.logs({})).map((entry) => entry.id), [written.id])
})

test('a follower hears each log row the holder stores from then on', async (t) => {
  const { dataDir, store } = await hold(t)
  const follower = await client(t, dataDir)
  const heard: LogEntry[] = []
  follower.follow({}, (entry) => heard.push(entry))
  // A round trip after the follow request: the holder has registered it by then.
  await follower.snapshot()
  const { event } = await store.append({ type: 'job.submitted', job: jobSpec({ name: 'followed' }) }, Date.now())
  const deadline = Date.now() + 5_000
  while (heard.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.deepEqual(heard.map((entry) => entry.id), [event.id])
})

test('a render node\'s endpoint answers reads and refuses writes, writing nothing', async (t) => {
  const { dataDir, store } = await hold(t, false)
  const asker = await client(t, dataDir)
  t.false((await asker.snapshot()).writable)
  const refused = await t.throwsAsync(asker.write({ type: 'job.submitted', job: jobSpec() }, 5_000), { instanceOf: HolderRefusedError })
  t.is(refused.kind, 'read-only')
  t.regex(refused.message, /running render node.*--data-dir/)
  t.deepEqual(store.versionVector(), {})
})

test('garbage and an oversized frame end only their own connection', async (t) => {
  const { dataDir } = await hold(t)
  for (const bytes of [Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), Buffer.from([0, 0, 0, 2, 0xff, 0xff]), Buffer.from([0, 0, 0, 1, 0x01])]) {
    const raw = connect(socketPathOf(dataDir))
    const closed = new Promise<void>((resolve) => { raw.on('close', () => { resolve() }) })
    raw.on('error', () => undefined)
    raw.write(bytes)
    await closed
  }
  const asker = await client(t, dataDir)
  t.deepEqual((await asker.snapshot()).view.jobs, [])
})

test('a socket file a killed holder left is nobody; the next holder replaces it', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cr-local-'))
  t.teardown(async () => rm(dataDir, { recursive: true, force: true }))
  await writeFile(socketPathOf(dataDir), '')
  t.is(await LocalClient.connect(dataDir), null)
  const store = await EventStore.open(path.join(dataDir, 'store'), signer)
  const endpoint = await LocalEndpoint.open(dataDir, farmOf(store, true), silentLogger())
  t.teardown(async () => {
    await endpoint?.close()
    await store.close()
  })
  const asker = await client(t, dataDir)
  t.is((await asker.snapshot()).peerId, store.author)
})

test('a holder that stops fails the requests of a command gone quiet, and leaves no socket behind', async (t) => {
  const { dataDir, endpoint } = await hold(t)
  const asker = await client(t, dataDir)
  await asker.snapshot()
  await endpoint.close()
  await t.throwsAsync(asker.snapshot(), { instanceOf: HolderGoneError })
  t.is(await LocalClient.connect(dataDir), null)
})

test('a holder that stops answers the write it already took before it lets go: no write is cut off with its outcome unknown', async (t) => {
  const { dataDir, endpoint, store } = await hold(t, true, 300)
  const asker = await client(t, dataDir)
  await asker.snapshot()
  const writing = asker.write({ type: 'job.submitted', job: jobSpec({ name: 'taken_before_the_stop' }) }, 5_000)
  // The write has reached the holder and waits there; then the holder's own command ends.
  await new Promise((resolve) => setTimeout(resolve, 100))
  const closing = endpoint.close()
  t.is(await LocalClient.connect(dataDir), null)
  const written = await writing
  await closing
  t.is(written.event.seq, 1)
  t.is(store.view().jobs[0]?.name, 'taken_before_the_stop')
})

test('a holder whose own command ends between a command\'s snapshot and its write still takes the write, and lets go once that command hangs up', async (t) => {
  const { dataDir, endpoint, store } = await hold(t)
  const asker = await client(t, dataDir)
  await asker.snapshot()
  const closing = endpoint.close()
  let closed = false
  closing.then(() => { closed = true }, () => undefined)
  // The command reads the snapshot it got, then writes, as cr submit does.
  await new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS / 4))
  t.is(await LocalClient.connect(dataDir), null)
  const written = await asker.write({ type: 'job.submitted', job: jobSpec({ name: 'written_while_the_holder_closed' }) }, 5_000)
  t.is(written.event.seq, 1)
  t.is(store.view().jobs[0]?.name, 'written_while_the_holder_closed')
  t.false(closed)
  const hungUpAt = performance.now()
  asker.close()
  await closing
  t.true(performance.now() - hungUpAt < CLOSE_GRACE_MS / 2, 'the holder let go once the command hung up')
})

test('a closing holder does not wait on a follower: the follow ends at once', async (t) => {
  const { dataDir, endpoint } = await hold(t)
  const follower = await client(t, dataDir)
  follower.follow({}, () => undefined)
  await follower.snapshot()
  const closingAt = performance.now()
  await endpoint.close()
  t.true(await follower.closed() instanceof HolderGoneError)
  t.true(performance.now() - closingAt < CLOSE_GRACE_MS / 2, 'the follower was cut off without the grace')
})

test('a command that keeps asking holds a closing holder no longer than the session limit', async (t) => {
  const { dataDir, endpoint } = await hold(t)
  const asker = await client(t, dataDir)
  await asker.snapshot()
  const stopAsking = new AbortController()
  // Asks again well inside the grace, over and over, as a stuck or hostile command might.
  const pinging = (async () => {
    while (!stopAsking.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS / 4))
      await asker.snapshot().catch(() => { stopAsking.abort() })
    }
  })()
  const limitMs = CLOSE_GRACE_MS * 2
  const closingAt = performance.now()
  await endpoint.close(limitMs)
  const tookMs = performance.now() - closingAt
  stopAsking.abort()
  await pinging
  t.true(tookMs >= limitMs - CLOSE_GRACE_MS / 4, `it waited on the command first (${Math.round(tookMs)} ms)`)
  t.true(tookMs < limitMs + CLOSE_GRACE_MS, `then let go (${Math.round(tookMs)} ms)`)
  t.true(await asker.closed() instanceof HolderGoneError)
})
