/** `cr key generate` as a studio's admin runs it: a real process writing a real key file. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { execa } from 'execa'
import { readFarmKey, readSwarmKey } from '../../src/node/mesh/swarm-key.js'

const cr = path.resolve('bin/cr.js')

test('a generated key is private to its owner, readable by nodes, and never overwritten by accident', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-key-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'swarm.key')
  const admin = ['--data-dir', path.join(dir, 'admin')]
  const first = await execa(process.execPath, [cr, 'key', 'generate', ...admin, file])
  t.regex(first.stdout, /wrote a new swarm key/)
  // The admin who made it founds the farm: its identity is named in the file.
  const whoami = await execa(process.execPath, [cr, 'whoami', ...admin])
  t.is((await readFarmKey(file)).founder, whoami.stdout.trim())
  t.regex(first.stdout, new RegExp(`founder is ${whoami.stdout.trim()}`))
  t.is((await stat(file)).mode & 0o777, 0o600)
  t.regex(Buffer.from(await readSwarmKey(file)).toString('utf8'), /^\/key\/swarm\/psk\/1.0.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
  const before = await readFile(file)
  const again = await execa(process.execPath, [cr, 'key', 'generate', ...admin, file], { reject: false })
  t.is(again.exitCode, 1)
  t.regex(again.stderr, /exists/)
  t.deepEqual(await readFile(file), before)
  await execa(process.execPath, [cr, 'key', 'generate', ...admin, '--force', file])
  t.notDeepEqual(await readFile(file), before)
})
