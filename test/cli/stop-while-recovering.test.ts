/**
 * A node whose store was lost waits for a peer to recover from, however long. A stop asked
 * for then (systemd's SIGTERM, Ctrl+C) must end the wait at once and cleanly, with nothing
 * of the node's written, rather than the process dying on a signal nobody listened for.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { execa } from 'execa'
import { loadIdentity } from '../../src/node/identity.js'
import { EventStore, storeDirOf } from '../../src/node/store/event-store.js'
import { signerFromKey } from '../../src/protocol/signing.js'

const cr = path.resolve('bin/cr.js')

test('SIGTERM while a node waits to recover its lost store stops it at once, exit 0, having written nothing', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-recovering-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const keyFile = path.join(dir, 'swarm.key')
  // The key's founder line names this data dir's identity: identity.key exists, no store does.
  t.is((await execa(process.execPath, [cr, 'key', 'generate', keyFile, '--data-dir', dir], { reject: false })).exitCode, 0)
  const node = execa(process.execPath, [cr, 'node', '--data-dir', dir, '--swarm-key', keyFile, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--scratch-dir', path.join(dir, 'scratch')], { reject: false, timeout: 60_000, all: true })
  await new Promise<void>((resolve) => {
    node.all.on('data', (chunk: Buffer) => { if (chunk.toString().includes('recovering the log from peers')) resolve() })
  })
  const signalledAt = performance.now()
  node.kill('SIGTERM')
  const ended = await node
  t.true(performance.now() - signalledAt < 5_000, 'the wait ended at once')
  t.is(ended.exitCode, 0, ended.all)
  t.regex(ended.all, /SIGTERM: stopping before the node started; it wrote nothing/)
  const store = await EventStore.open(storeDirOf(dir), signerFromKey(await loadIdentity(dir, { create: false })))
  t.teardown(async () => store.close())
  t.deepEqual(store.versionVector(), {}, 'nothing of the node is in its store')
})
