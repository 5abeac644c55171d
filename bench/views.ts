/**
 * What one event costs the farm view: commit a block fact, then read the view, as a node
 * does after each batch. The view is kept incrementally (src/protocol/farm-view.ts), so
 * the cost should follow what the event changed, not the size of the farm: the figure
 * for a farm holding a 50,000-block job (1-1,000,000 in blocks of 20) beside one for a
 * farm of one small job, and the same farm derived from scratch for comparison.
 */
import { pathToFileURL } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { DraftBody } from '../src/protocol/events.js'
import { deriveView } from '../src/protocol/farm-view.js'
import { Replica } from '../src/protocol/replica.js'
import { signerFromKey, type Signer } from '../src/protocol/signing.js'
import { formatMs, median, printTables, type Row } from './report.js'
import type { BenchReport } from './results.js'

const EVENTS = 2_000

interface Farm {
  readonly replica: Replica
  readonly signer: Signer
  readonly jobId: string
  readonly blockSize: number
  wallTime: number
}

function write (farm: Farm, body: DraftBody): void {
  farm.replica.commit(farm.replica.draft(farm.signer, farm.wallTime++, body))
}

/** A farm of one job of `frameEnd` frames in blocks of `blockSize`, beside `otherJobs` jobs of `otherBlocks` blocks of 4 frames. */
async function farmWith (frameEnd: number, blockSize: number, otherJobs: number, otherBlocks = 10): Promise<Farm> {
  const signer = signerFromKey(await generateKeyPair('Ed25519'))
  const replica = new Replica({ authority: { founder: signer.author } })
  const job = (name: string, end: number, size: number): DraftBody => ({
    type: 'job.submitted',
    job: {
      name, project: 'bench', user: 'bench', software: 'blender', scenePath: '/scenes/bench.blend', targetPath: '/renders/bench',
      frameStart: 1, frameEnd: end, blockSize: size, layer: null, camera: null, imageName: null, imageFormat: null,
      commandTemplate: null, priority: 50, classification: 'A', maxRetries: 3, enabled: true
    }
  })
  const draft = replica.draft(signer, 1_700_000_000_000, job('big', frameEnd, blockSize))
  replica.commit(draft)
  if (draft.event.body.type !== 'job.submitted') throw new Error('not a submission')
  const farm = { replica, signer, jobId: draft.event.body.job.id, blockSize, wallTime: 1_700_000_000_001 }
  for (let other = 0; other < otherJobs; other++) write(farm, job(`other${other}`, otherBlocks * 4, 4))
  replica.view()
  return farm
}

/** Mean time to commit a claim, start or finish of the big job and read the view. */
function perEventMs (farm: Farm): number {
  const started = performance.now()
  for (let index = 0; index < EVENTS; index++) {
    const block = Math.floor(index / 3)
    const lease = { jobId: farm.jobId, block, epoch: 1 }
    // Every block of the big job is whole: finding it in the view would time a scan of the farm, not the view.
    const count = farm.blockSize
    const step = index % 3
    write(farm, step === 0 ? { type: 'block.claimed', ...lease } : step === 1 ? { type: 'block.started', ...lease } : { type: 'block.finished', ...lease, wallMs: count * 1000, frameMs: Array.from({ length: count }, () => 1000) })
    farm.replica.view()
  }
  return (performance.now() - started) / EVENTS
}

function fromScratchMs (farm: Farm): number {
  const started = performance.now()
  deriveView(farm.replica.records, farm.replica.authority)
  return performance.now() - started
}

export async function runViewsBench (): Promise<BenchReport> {
  const runs = 3
  const small: number[] = []
  const large: number[] = []
  const scratch: number[] = []
  for (let run = 0; run < runs; run++) {
    small.push(perEventMs(await farmWith(4_000, 4, 0)))
    const big = await farmWith(1_000_000, 20, 999)
    large.push(perEventMs(big))
    scratch.push(fromScratchMs(big))
  }
  // One run: building it signs and commits 100,000 submissions.
  const wide = await farmWith(4_000, 4, 99_999)
  const wideMs = perEventMs(wide)
  const wideScratchMs = fromScratchMs(wide)
  const ratio = median(large) / median(small)
  const rows: Row[] = [
    ['farm of 1 job of 1,000 blocks', formatMs(median(small)), `median of ${runs}, ${EVENTS} events each`],
    ['farm of 1,000 jobs, one of 50,000 blocks', formatMs(median(large)), `median of ${runs}; ratio ${ratio.toFixed(1)}x`],
    ['that farm derived from scratch, once', formatMs(median(scratch)), 'what every event cost before the view was incremental'],
    ['farm of 100,000 jobs and 1,000,000 blocks', formatMs(wideMs), `one run; ratio ${(wideMs / median(small)).toFixed(1)}x`],
    ['that farm derived from scratch, once', formatMs(wideScratchMs), 'what every event cost before the view was incremental']
  ]
  return {
    tables: [{ title: 'Views: cost of one event (commit + read the view)', rows }],
    figures: { 'views.wideFarmRatio': { value: ratio, note: `${formatMs(median(large))} vs ${formatMs(median(small))} per event` } }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTables((await runViewsBench()).tables)
}
