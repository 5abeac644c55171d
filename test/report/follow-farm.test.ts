/**
 * `cr export sqlite --follow` as a live mirror of a real farm: three `cr node` processes
 * render a job while the mirror, its own peer on the mesh, applies each batch of events
 * to a real SQLite file. The mirror ends showing every block finished by the node that
 * finished it, and Ctrl+C leaves the file consistent and the command exits 0. The lag
 * from a finish on the farm to the mirror is logged (the bench measures it).
 */
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import test from 'ava'
import { execa } from 'execa'
import { writeProceduralScene } from '../../src/render/index.js'
import { jobSpec } from '../helpers/farm-events.js'
import { waitUntil } from '../helpers/peer-process.js'
import { RenderFarm } from '../helpers/render-farm.js'

const CR = new URL('../../bin/cr.js', import.meta.url).pathname

interface MirroredBlock {
  readonly blockIndex: number
  readonly blockStatus: string
  readonly blockFinishedBy: string | null
}

/** The mirror's block rows of `jobId`, read as a report tool would, or none before its first commit. */
function mirroredBlocks (file: string, jobId: string): MirroredBlock[] {
  let db: DatabaseSync | undefined
  try {
    db = new DatabaseSync(file, { readOnly: true })
    return db.prepare('SELECT blockIndex, blockStatus, blockFinishedBy FROM constellationBlockTable WHERE jobUuid = ? ORDER BY blockIndex').all(jobId) as unknown as MirroredBlock[]
  } catch {
    return []
  } finally {
    db?.close()
  }
}

test('a follow mirror shows a live farm\'s blocks finishing, and Ctrl+C leaves it consistent', async (t) => {
  t.timeout(180_000)
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const nodes = await Promise.all(['render-01', 'render-02', 'render-03'].map(async (name) => farm.startNode(name)))
  const file = path.join(farm.dir, 'mirror.sqlite')
  const env = (dataDir: string): Record<string, string> => ({ CR_DATA_DIR: path.join(farm.dir, dataDir), CR_SWARM_KEY: farm.swarmKeyFile, CR_MDNS_TAG: farm.mdnsTag, CR_LISTEN: '/ip4/127.0.0.1/tcp/0', CR_TIMEOUT: '30' })
  const mirror = execa(process.execPath, [CR, 'export', 'sqlite', file, '--follow'], { reject: false, env: env('mirror') })
  let out = ''
  mirror.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  await waitUntil(() => Promise.resolve(out.includes('following the farm') ? true : undefined), 'the mirror to make its first export')

  const scene = path.join(farm.dir, 'scene.json')
  await writeProceduralScene(scene, { width: 8, height: 8, frameDelayMs: 200 })
  const job = await farm.submit(jobSpec({ name: 'mirrored', software: 'procedural', scenePath: scene, targetPath: path.join(farm.dir, 'frames'), imageName: 'mirrored', imageFormat: 'png', frameStart: 1, frameEnd: 12, blockSize: 2 }))
  const done = await farm.until((view) => {
    const seen = view.jobs.find((entry) => entry.id === job.id)
    return seen?.status === 'DONE' ? seen : undefined
  }, 'the job DONE on the farm')
  const doneAt = Date.now()
  const rows = await waitUntil(() => {
    const blocks = mirroredBlocks(file, job.id)
    return Promise.resolve(blocks.length === done.blocks.length && blocks.every((block) => block.blockStatus === 'DONE') ? blocks : undefined)
  }, 'the mirror to show every block DONE')
  t.log(`mirror caught up ${Date.now() - doneAt} ms after the observer saw the job DONE`)

  const names = new Map(nodes.map((node) => [node.peerId, node.name]))
  t.deepEqual(rows.map((row) => row.blockIndex), done.blocks.map((block) => block.index))
  for (const [index, row] of rows.entries()) {
    t.is(row.blockFinishedBy, done.blocks[index]?.finishedBy ?? null, `block ${index}`)
    t.true(names.has(row.blockFinishedBy ?? ''), `block ${index} finished by a node of the farm`)
  }

  mirror.kill('SIGINT')
  const result = await mirror
  t.is(result.exitCode, 0, result.stderr)
  const db = new DatabaseSync(file, { readOnly: true })
  t.teardown(() => { db.close() })
  t.is(db.prepare('PRAGMA integrity_check').get()?.integrity_check, 'ok')
  t.like(db.prepare('SELECT jobStatus FROM constellationJobTable WHERE jobUuid = ?').get(job.id), { jobStatus: 'DONE' })

  // A one-shot export by a new peer reads the farm it caught up with: the same blocks.
  const once = path.join(farm.dir, 'once.sqlite')
  const oneShot = await execa(process.execPath, [CR, 'export', 'sqlite', once], { reject: false, env: env('reporter') })
  t.is(oneShot.exitCode, 0, oneShot.stderr)
  t.deepEqual(mirroredBlocks(once, job.id), rows)
})
