/**
 * Two render nodes on one machine, one scratch root (the default puts every node of a host
 * in the OS temp folder's constellation-render): each renders in `<root>/<peer id>/` and
 * its start-up clears only that. Real nodes (LevelDB, loopback mesh), so run inside the
 * test network namespace.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import { resolveNodeConfig } from '../../../src/node/config/node-config.js'
import { silentLogger } from '../../../src/node/log.js'
import { writeSwarmKey } from '../../../src/node/mesh/swarm-key.js'
import { RenderNode } from '../../../src/node/runtime/render-node.js'
import { writeProceduralScene } from '../../../src/render/index.js'
import { filesUnder, tempDir } from '../../fixtures/render/helpers.js'
import { jobSpec } from '../../helpers/farm-events.js'

/** A guard against hanging forever, not a deadline under test. */
const HANG_GUARD_MS = 60_000

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + HANG_GUARD_MS
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('nodes sharing a scratch root never touch each other\'s files: start-up clears only the node\'s own folder', async (t) => {
  const dir = await tempDir(t, 'cr-node-scratch-')
  const scratchDir = path.join(dir, 'scratch')
  const swarmKeyFile = path.join(dir, 'swarm.key')
  await writeSwarmKey(swarmKeyFile)
  const start = (name: string, fields: Record<string, unknown> = {}): Promise<RenderNode> => RenderNode.start(resolveNodeConfig({
    name,
    dataDir: path.join(dir, name),
    scratchDir,
    swarmKeyFile,
    render: { software: ['procedural'] },
    mesh: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { enabled: false } },
    ...fields
  }), { logger: silentLogger() })
  const nodes: RenderNode[] = []
  t.teardown(async () => { await Promise.all(nodes.map((node) => node.stop())) })

  const a = await start('render-a')
  nodes.push(a)
  // Node B takes no work here, so A renders the block; B only submits, and starts up beside A.
  const startB = async (): Promise<RenderNode> => {
    const b = await start('render-b', { render: { enabled: false }, mesh: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { enabled: false }, bootstrapPeers: a.mesh.addresses() } })
    nodes.push(b)
    return b
  }
  await mkdir(scratchDir, { recursive: true })
  await writeFile(path.join(scratchDir, 'notes.txt'), 'a sysadmin\'s file in a shared folder')
  const b = await startB()
  t.not(b.peerId, a.peerId)
  await until('B connected to A', () => b.mesh.connectedPeers().length > 0 ? true : undefined)

  const scene = path.join(dir, 'scene.json')
  await writeProceduralScene(scene, { frameDelayMs: 300 })
  const target = path.join(dir, 'target')
  const { event: { event: submitted } } = await b.store.append({ type: 'job.submitted', job: jobSpec({ software: 'procedural', scenePath: scene, targetPath: target, frameStart: 1, frameEnd: 8, blockSize: 8 }) }, Date.now())
  if (submitted.body.type !== 'job.submitted') return t.fail('not a submission')
  const blockFolder = path.join(scratchDir, a.peerId, submitted.body.job.id, '0-1')
  await until('A rendering in its own scratch folder', async () => (await filesUnder(path.join(blockFolder, 'out'))).length > 0 ? true : undefined)

  // B restarts (after a crash, with leftovers in its own folder) while A renders.
  await b.stop()
  await mkdir(path.join(scratchDir, b.peerId, 'job-x', '0-1', 'out'), { recursive: true })
  await writeFile(path.join(scratchDir, b.peerId, 'job-x', '0-1', 'out', 'shot_0001.png'), 'B\'s leftover')
  await startB()
  t.deepEqual(await filesUnder(path.join(scratchDir, b.peerId)), [], 'B cleared its own leftovers')
  t.true((await filesUnder(path.join(blockFolder, 'out'))).length > 0, 'A\'s render in progress is untouched')

  // Frames count once moved in (not while staged), and the block is over once its scratch is gone.
  const delivered = async (): Promise<boolean> => (await filesUnder(target)).filter((file) => !file.startsWith('.')).length === 8
  await until('A\'s frames at the target and its block folder gone', async () => await delivered() && (await filesUnder(blockFolder)).length === 0 ? true : undefined)
  t.is(await readFile(path.join(scratchDir, 'notes.txt'), 'utf8'), 'a sysadmin\'s file in a shared folder')
  t.deepEqual((await readdir(scratchDir)).sort(), [a.peerId, 'notes.txt'].sort())
  t.deepEqual(await filesUnder(scratchDir), ['notes.txt'], 'A cleaned its block folder')
})
