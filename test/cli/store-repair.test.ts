/**
 * A damaged store as a sysadmin meets it, real processes on real stores: `cr store check`
 * exits 3 naming the damage, `cr node` refuses to start with the repair command, and
 * `cr store repair` rebuilds a store that opens, checks out and holds every event that was
 * intact, keeping the damaged one beside it.
 */
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import { execa } from 'execa'
import { loadIdentity } from '../../src/node/identity.js'
import { EventStore, storeDirOf } from '../../src/node/store/event-store.js'
import { signerFromKey } from '../../src/protocol/signing.js'
import type { VersionVector } from '../../src/protocol/version-vector.js'
import { DAMAGES, damageStore, nodeDirWithStore, type Damage } from '../helpers/damaged-store.js'

const cr = path.resolve('bin/cr.js')

/** A node that runs on a damaged store would run forever: the timeout turns that into a failure. */
async function run (args: readonly string[]) {
  return execa(process.execPath, [cr, ...args], { reject: false, timeout: 60_000, env: { CR_DATA_DIR: '/nonexistent' } })
}

/** What each damage leaves intact: everything, or at least what had reached the tables. */
function intactOf (damage: Damage, inTables: VersionVector, all: VersionVector): VersionVector | null {
  if (damage === 'manifest-truncated' || damage === 'current-deleted') return all
  if (damage === 'log-flipped') return inTables
  // A table lost or damaged takes the start of the feed with it: nothing verifies from seq 1.
  return null
}

for (const damage of DAMAGES) {
  test(`${damage}: check exits 3 naming it, the node refuses to start, and repair rebuilds every intact event`, async (t) => {
    const { dir, inTables, all } = await nodeDirWithStore(t)
    await damageStore(dir, damage)

    const check = await run(['store', 'check', dir])
    t.is(check.exitCode, 3, check.stderr)
    t.is(check.stderr.trim().split('\n').length, 1)
    t.regex(check.stderr, new RegExp(`corrupt at .+; stop the node and run \`cr store repair --data-dir ${dir}\``))

    const keyFile = path.join(dir, 'swarm.key')
    t.is((await run(['key', 'generate', keyFile, '--data-dir', dir])).exitCode, 0)
    const node = await run(['node', '--data-dir', dir, '--swarm-key', keyFile, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--scratch-dir', path.join(dir, 'scratch')])
    // Refused at open, or (damage in an old table, which no open reads) stopped by the scrub.
    t.is(node.exitCode, 3, node.stderr)
    t.regex(node.stderr, /cr store repair --data-dir/)

    const repair = await run(['store', 'repair', '--data-dir', dir])
    t.is(repair.exitCode, 0, repair.stderr)
    t.regex(repair.stdout, /rebuilt the store .*: kept \d+ events of 1 authors, lost \d+/)
    t.regex(repair.stdout, /\(this node\)/)
    t.true((await readdir(dir)).some((name) => name.startsWith('store.damaged-')), 'the damaged store is kept')
    t.false((await readdir(dir)).some((name) => name.startsWith('store.new-') || name.startsWith('store.salvage-')))

    const after = await run(['store', 'check', '--json', dir])
    t.is(after.exitCode, 0, after.stderr)
    t.like(JSON.parse(after.stdout), { consistent: true })
    const store = await EventStore.open(storeDirOf(dir), signerFromKey(await loadIdentity(dir, { create: false })))
    t.teardown(async () => store.close())
    t.is(store.recovery, 'repaired')
    const author = store.author
    const intact = intactOf(damage, inTables, all)
    if (intact === null) {
      t.true((store.versionVector()[author] ?? 0) < (all[author] ?? 0))
    } else {
      t.true((store.versionVector()[author] ?? 0) >= (intact[author] ?? 0), `kept ${store.versionVector()[author]} of the ${intact[author]} intact`)
    }
  })
}

test('repair refuses a store a running process holds, and leaves a sound store alone', async (t) => {
  const { dir } = await nodeDirWithStore(t, 20, 5)
  const sound = await run(['store', 'repair', '--data-dir', dir])
  t.is(sound.exitCode, 0, sound.stderr)
  t.regex(sound.stdout, /is sound \(25 events\); nothing to repair/)
  t.false((await readdir(dir)).some((name) => name.startsWith('store.')))

  const open = await EventStore.open(storeDirOf(dir), signerFromKey(await loadIdentity(dir, { create: false })))
  t.teardown(async () => open.close())
  const busy = await run(['store', 'repair', '--data-dir', dir])
  t.is(busy.exitCode, 1)
  t.regex(busy.stderr, new RegExp(`in use by process ${process.pid}; stop the node first`))
})

test('repair of a data directory without a store says so', async (t) => {
  const result = await run(['store', 'repair', '--data-dir', path.join('/tmp', `cr-no-such-${process.pid}`)])
  t.not(result.exitCode, 0)
  t.regex(result.stderr, /identity\.key: missing|there is no store/)
})
