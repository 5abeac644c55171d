import test from 'ava'
import { logEntryOf } from '../../src/protocol/logs.js'
import { makeSigners, World } from '../helpers/farm-events.js'

const signers = await makeSigners(1)

test('a job\'s voyage reads as log rows, failures carrying the renderer\'s output tail', (t) => {
  const world = new World(signers)
  const job = world.submit(0, { name: 'shot020_fx', frameStart: 1, frameEnd: 4, blockSize: 2 })
  world.write(0, { type: 'node.settings', node: world.author(0), changes: { name: 'render01' } })
  world.write(0, { type: 'block.claimed', jobId: job.id, block: 0, epoch: 1 })
  world.write(0, { type: 'block.failed', jobId: job.id, block: 0, epoch: 1, failure: 'retryable', message: 'renderer exited with code 1', outputTail: ['Error: out of memory'] })
  world.write(0, { type: 'block.finished', jobId: job.id, block: 1, epoch: 1, wallMs: 5000, frameMs: [2000, 3000] })
  const rows = world.events.map(logEntryOf).filter((row) => row !== null)
  t.deepEqual(rows.map((row) => row.description), [
    'submitted shot020_fx: blender, frames 1-4 in blocks of 2, priority 50, class A',
    'claimed block 0 (epoch 1)',
    'block 0 failed (retryable): renderer exited with code 1',
    'finished block 1: 2 frames in 5.0 s (2.5 s per frame)'
  ])
  t.deepEqual(rows[2]?.outputTail, ['Error: out of memory'])
  t.true(rows.every((row) => row.jobId === job.id && row.node === world.author(0)))
})

test('a grant and a revocation of a role read as log rows of no job', (t) => {
  const world = new World(signers)
  const peer = '12D3KooWFS7RwHAugMm7iknKRPaW63tW65sXFfDQpAhiDs6pJsz7'
  world.write(0, { type: 'role.changed', peer, role: 'wrangler', granted: true })
  world.write(0, { type: 'role.changed', peer, role: 'wrangler', granted: false })
  const rows = world.events.map(logEntryOf).filter((row) => row !== null)
  t.deepEqual(rows.map((row) => [row.jobId, row.block, row.description]), [
    [null, null, `granted wrangler for ${peer}`],
    [null, null, `revoked wrangler for ${peer}`]
  ])
})
