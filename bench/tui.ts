/**
 * The TUI's figures: how long one frame of the Jobs screen takes to render with 1,000
 * jobs and 100 nodes (React and Ink's own time per frame, as Ink reports it, and the
 * view-model rows from scratch), and the event-to-screen latency: an event stored on a
 * node peer, over the mesh to a `cr tui` controller, to the frame Ink writes that shows
 * it. Must run inside the network namespace (npm run bench does).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { stripVTControlCharacters } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Controller } from '../src/node/controller/controller.js'
import { silentLogger } from '../src/node/log.js'
import { Mesh } from '../src/node/mesh/mesh.js'
import { readFarmKey, writeSwarmKey } from '../src/node/mesh/swarm-key.js'
import { EventStore } from '../src/node/store/event-store.js'
import type { DraftBody, JobFields } from '../src/protocol/events.js'
import { Replica } from '../src/protocol/replica.js'
import { signerFromKey, type Signer } from '../src/protocol/signing.js'
import { ControllerFarmSource } from '../src/tui/controller-source.js'
import type { FarmSource } from '../src/tui/farm-source.js'
import { JobRows } from '../src/tui/model/jobs.js'
import type { FarmSnapshot, HeartbeatSeen } from '../src/tui/model/snapshot.js'
import { renderApp, type Terminal } from '../src/tui/run-tui.js'
import { formatMs, median, percentile, printTables } from './report.js'
import type { BenchReport } from './results.js'

const JOBS = 1_000
const NODES = 100
const FRAMES_TIMED = 30
const LATENCY_SAMPLES = 40
/** Between samples: longer than the render throttle, so each event is a frame of its own. */
const SAMPLE_GAP_MS = 150
const SAMPLE_TIMEOUT_MS = 5_000

function jobFields (name: string, priority: number): JobFields {
  return {
    name, project: 'bench', user: 'bench', software: 'blender', scenePath: '/scenes/bench.blend', targetPath: '/renders/bench',
    frameStart: 1, frameEnd: 40, blockSize: 4, layer: null, camera: null, imageName: null, imageFormat: null,
    commandTemplate: null, priority, classification: 'A', maxRetries: 3, enabled: true
  }
}

/** A terminal in memory: what Ink writes, with when, and a keyboard nobody types on. */
function memoryTerminal (onRender?: Terminal['onRender']): Terminal & { readonly writes: { atMs: number, text: string }[] } {
  const writes: { atMs: number, text: string }[] = []
  const stdout = Object.assign(new Writable({
    write (chunk: Buffer, _encoding, done) {
      writes.push({ atMs: performance.now(), text: stripVTControlCharacters(chunk.toString()) })
      done()
    }
  }), { isTTY: true, columns: 120, rows: 40 }) as unknown as NodeJS.WriteStream
  const keyboard = new PassThrough()
  const stdin = Object.assign(keyboard, { isTTY: true, setRawMode: () => stdin, ref: () => stdin, unref: () => stdin }) as unknown as NodeJS.ReadStream
  return { stdout, stdin, writes, ...(onRender === undefined ? {} : { onRender }) }
}

/** A farm of 1,000 jobs and 100 nodes in a replica, each node rendering a block of its own job, as a snapshot source. */
async function bigFarm (): Promise<{ source: FarmSource & { touch: () => void }, snapshot: () => FarmSnapshot }> {
  const wrangler = signerFromKey(await generateKeyPair('Ed25519'))
  const nodes: Signer[] = await Promise.all(Array.from({ length: NODES }, async () => signerFromKey(await generateKeyPair('Ed25519'))))
  const replica = new Replica({ authority: { founder: wrangler.author } })
  let wallTime = Date.now() - 60_000
  const write = (signer: Signer, body: DraftBody): DraftBody => {
    replica.commit(replica.draft(signer, wallTime++, body))
    return body
  }
  const jobIds: string[] = []
  for (let index = 0; index < JOBS; index++) {
    const draft = replica.draft(wrangler, wallTime++, { type: 'job.submitted', job: jobFields(`shot${String(index).padStart(4, '0')}_beauty`, index % 100) })
    replica.commit(draft)
    if (draft.event.body.type === 'job.submitted') jobIds.push(draft.event.body.job.id)
  }
  const heartbeats = new Map<string, HeartbeatSeen>()
  nodes.forEach((node, index) => {
    const jobId = jobIds[index] ?? ''
    write(node, { type: 'node.settings', node: node.author, changes: { name: `render${String(index).padStart(3, '0')}` } })
    write(node, { type: 'block.claimed', jobId, block: 0, epoch: 1 })
    write(node, { type: 'block.started', jobId, block: 0, epoch: 1 })
    heartbeats.set(node.author, { status: 'RENDERING', lease: { jobId, block: 0, epoch: 1 }, progressPct: 50, mayRender: true, feedSeq: 3, receivedAtMs: Date.now() })
  })
  const listeners = new Set<() => void>()
  let priority = 0
  const snapshot = (): FarmSnapshot => ({
    view: replica.view(),
    heartbeats,
    live: new Set(heartbeats.keys()),
    goneHolders: new Set(),
    held: replica.versionVector(),
    logs: [],
    mesh: { farm: '_bench._udp.local', identity: wrangler.author, peersConnected: NODES, sync: { phase: 'live' }, logFile: '/dev/null' }
  })
  const source = {
    snapshot,
    subscribe: (listener: () => void) => {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    write: async () => { await Promise.resolve() },
    /** One steering event: the top job's priority moves, which re-sorts the list. */
    touch: () => {
      write(wrangler, { type: 'job.edited', jobId: jobIds[0] ?? '', changes: { priority: priority++ % 100 } })
      for (const listener of listeners) listener()
    }
  }
  return { source, snapshot }
}

async function frameFigures (): Promise<{ renderMs: number[], rowsColdMs: number, rowsWarmMs: number }> {
  const { source, snapshot } = await bigFarm()
  const renderMs: number[] = []
  const terminal = memoryTerminal(({ renderTime }) => { renderMs.push(renderTime) })
  const app = renderApp(source, terminal)
  for (let frame = 0; frame < FRAMES_TIMED; frame++) {
    source.touch()
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_GAP_MS))
  }
  app.unmount()
  const { view } = snapshot()
  const cold = performance.now()
  new JobRows().rows(view.jobs, new Set())
  const rowsColdMs = performance.now() - cold
  const rows = new JobRows()
  rows.rows(view.jobs, new Set())
  source.touch()
  const changed = snapshot().view.jobs
  const warm = performance.now()
  rows.rows(changed, new Set())
  return { renderMs, rowsColdMs, rowsWarmMs: performance.now() - warm }
}

/** A node peer writes priority changes to its job; each is timed until a frame of `cr tui`'s app shows it. */
async function latencyFigures (): Promise<number[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-bench-tui-'))
  const swarmKeyFile = path.join(dir, 'swarm.key')
  await writeSwarmKey(swarmKeyFile)
  const nodeKey = await generateKeyPair('Ed25519')
  const store = await EventStore.open(path.join(dir, 'node'), signerFromKey(nodeKey))
  const mesh = new Mesh({ privateKey: nodeKey, swarmKey: (await readFarmKey(swarmKeyFile)).psk, log: store, logger: silentLogger(), config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { enabled: false } } })
  await mesh.start()
  const controller = new Controller({ dataDir: path.join(dir, 'artist'), swarmKeyFile, mesh: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { enabled: false }, bootstrapPeers: mesh.addresses() }, logger: silentLogger() })
  await controller.open()
  const source = new ControllerFarmSource({ controller, logger: silentLogger(), farm: 'bench', logFile: '/dev/null', timeoutMs: 10_000 })
  await source.start()
  const terminal = memoryTerminal()
  const app = renderApp(source, terminal)
  const shown = async (pattern: RegExp, fromWrite: number): Promise<number> => {
    const started = performance.now()
    for (;;) {
      const hit = terminal.writes.slice(fromWrite).find((write) => pattern.test(write.text))
      if (hit !== undefined) return hit.atMs
      if (performance.now() - started > SAMPLE_TIMEOUT_MS) throw new Error(`no frame matched ${String(pattern)} within ${SAMPLE_TIMEOUT_MS} ms`)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }
  try {
    const { event } = await store.append({ type: 'job.submitted', job: jobFields('bench_latency', 50) }, Date.now())
    if (event.event.body.type !== 'job.submitted') throw new Error('not a submission')
    const jobId = event.event.body.job.id
    await shown(/bench_latency/, 0)
    const latencies: number[] = []
    for (let sample = 0; sample < LATENCY_SAMPLES; sample++) {
      const priority = sample % 2 === 0 ? 70 + (sample % 20) : 20 + (sample % 20)
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_GAP_MS))
      const mark = terminal.writes.length
      await store.append({ type: 'job.edited', jobId, changes: { priority } }, Date.now())
      const storedAt = performance.now()
      latencies.push(await shown(new RegExp(`bench_latency\\s+\\[[#.]+\\]\\s+0/40\\s+${priority}\\s`), mark) - storedAt)
    }
    return latencies
  } finally {
    app.unmount()
    source.stop()
    await controller.close()
    await mesh.stop()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

export async function runTuiBench (): Promise<BenchReport> {
  const frames = await frameFigures()
  const latencies = await latencyFigures()
  const frameMs = median(frames.renderMs)
  const p99 = percentile(latencies, 0.99)
  return {
    tables: [{
      title: 'TUI: a frame, and an event to the screen',
      rows: [
        [`Jobs frame, ${JOBS.toLocaleString('en-US')} jobs and ${NODES} nodes (React + Ink)`, formatMs(frameMs), `median of ${frames.renderMs.length} frames; p99 ${formatMs(percentile(frames.renderMs, 0.99))}; 120x40, windowed`],
        ['job rows from scratch (view model)', formatMs(frames.rowsColdMs), `${JOBS.toLocaleString('en-US')} rows; after one event, cached per job: ${formatMs(frames.rowsWarmMs)}`],
        ['event stored on a node -> frame written, p50', formatMs(percentile(latencies, 0.5)), `${latencies.length} events over the mesh to a cr tui controller`],
        ['event stored on a node -> frame written, p99', formatMs(p99), 'renders throttled to one per 50 ms']
      ]
    }],
    figures: {
      'tui.frameMs': { value: frameMs, note: `median of ${frames.renderMs.length} frames` },
      'tui.eventToFrameP99Ms': { value: p99, note: `${latencies.length} events; p50 ${formatMs(percentile(latencies, 0.5))}` }
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTables((await runTuiBench()).tables)
  process.exit()
}
