/**
 * The swarm key file (generate, read, refuse to overwrite, reject malformed files) and
 * what it is for: a peer with another studio's key finds the farm over mDNS but cannot
 * connect to it, in either direction, and receives none of its events.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { InvalidSwarmKeyError, SwarmKeyExistsError, SwarmKeyNotFoundError } from '../../../src/node/mesh/errors.js'
import { generateSwarmKey, parseSwarmKey, readSwarmKey, writeSwarmKey } from '../../../src/node/mesh/swarm-key.js'
import { converged, MeshTestbed, stateOf } from '../../helpers/mesh-testbed.js'

test('a written key reads back, owner-only, and is not overwritten by accident', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cr-key-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const path = join(dir, 'nested', 'swarm.key')
  const written = await writeSwarmKey(path)
  t.deepEqual(await readSwarmKey(path), written)
  t.is((await stat(path)).mode & 0o777, 0o600)
  await t.throwsAsync(writeSwarmKey(path), { instanceOf: SwarmKeyExistsError })
  const replaced = await writeSwarmKey(path, { overwrite: true })
  t.notDeepEqual(replaced, written)
  t.deepEqual(await readFile(path), Buffer.from(replaced))
  await t.throwsAsync(readSwarmKey(join(dir, 'missing.key')), { instanceOf: SwarmKeyNotFoundError })
})

test('keys are random and in the libp2p file format; hand-copied line ends are tolerated', (t) => {
  const key = Buffer.from(generateSwarmKey()).toString('utf8')
  t.regex(key, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
  t.not(key, Buffer.from(generateSwarmKey()).toString('utf8'))
  const crlf = Buffer.from(`${key.trim().replaceAll('\n', '\r\n')}  \r\n`)
  t.is(Buffer.from(parseSwarmKey(crlf, 'copy')).toString('utf8'), key)
})

test('malformed key files are refused with the reason', (t) => {
  const hex = 'ab'.repeat(32)
  const cases: Array<[string, RegExp]> = [
    [`/key/swarm/psk/2.0.0/\n/base16/\n${hex}`, /first line/],
    [`/key/swarm/psk/1.0.0/\n/base64/\n${hex}`, /second line/],
    ['/key/swarm/psk/1.0.0/\n/base16/\nabc', /64 hexadecimal digits/],
    [`/key/swarm/psk/1.0.0/\n/base16/\n${hex}\nmore`, /unexpected lines/],
    ['x'.repeat(2000), /too large/]
  ]
  for (const [text, reason] of cases) {
    const error = t.throws(() => parseSwarmKey(Buffer.from(text), 'test.key'), { instanceOf: InvalidSwarmKeyError })
    t.regex(error.message, reason)
  }
})

let bed: MeshTestbed | undefined

test.after.always(async () => {
  await bed?.destroy()
})

test('a peer with another swarm key finds the farm but cannot connect to it', async (t) => {
  bed = await MeshTestbed.create()
  const outsiderKey = await bed.otherSwarmKey()
  const [a, b, outsider] = await Promise.all([
    bed.start('a'),
    bed.start('b'),
    bed.start('outsider', { swarmKeyPath: outsiderKey })
  ])
  // Every side discovers the others over mDNS and tries; only the pair with one key gets through.
  for (const [from, to] of [[outsider, a], [outsider, b], [a, outsider], [b, outsider]] as const) {
    await from.nextEvent((news) => news.event === 'dial-failed' && news.target === to.id, `${from.label}'s failed dial to ${to.label}`)
  }
  await Promise.all([a.request('write', { count: 5 }), b.request('write', { count: 5 }), outsider.request('write', { count: 5 })])
  await converged([a, b], 10)

  const [stateA, stateB, stateOutsider] = await Promise.all([stateOf(a), stateOf(b), stateOf(outsider)])
  t.deepEqual(stateA.connected, [b.id])
  t.deepEqual(stateB.connected, [a.id])
  t.deepEqual(stateOutsider.connected, [])
  t.deepEqual(Object.keys(stateOutsider.vv), [outsider.id])
  t.false(a.news.some((news) => news.event === 'connected' && news.peer === outsider.id))
  t.false(outsider.news.some((news) => news.event === 'connected'))
})
