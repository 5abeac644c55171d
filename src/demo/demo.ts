/**
 * The demo (`npm start`, `cr demo`): a farm of three render nodes on this machine's
 * loopback, with a sample job rendered frame by frame while the terminal shows who took
 * which block. Blender renders it when installed; otherwise the built-in procedural
 * renderer does, so a fresh checkout shows the whole product with nothing else installed.
 * The nodes find each other by static loopback addresses (mDNS off), so the demo sends
 * nothing beyond this machine. On a terminal the demo shows the farm in the TUI instead
 * (runDemoInTui), as a controller peer of the same farm.
 */
import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import { resolveNodeConfig } from '../node/config/node-config.js'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Controller } from '../node/controller/controller.js'
import { loadOrCreateIdentity } from '../node/identity.js'
import { createLogger, type Logger } from '../node/log.js'
import { writeSwarmKey } from '../node/mesh/swarm-key.js'
import { RenderNode } from '../node/runtime/render-node.js'
import type { JobFields, JobSpec } from '../protocol/events.js'
import type { Software } from '../protocol/vocabulary.js'
import type { JobView } from '../protocol/view.js'
import { writeBlenderSampleScene } from '../render/blender-scene.js'
import { findExecutable } from '../render/discovery.js'
import { ExecutableNotFoundError } from '../render/errors.js'
import { writeProceduralScene } from '../render/procedural/scene.js'
import { logFileIn } from '../tui/log-file.js'
import { runTui } from '../tui/run-tui.js'

export const DEMO_NODES = ['render01', 'render02', 'render03'] as const
export const DEMO_FRAMES = 24
export const DEMO_BLOCK_SIZE = 4
/** The built-in renderer's artificial time per frame, so the farm's sharing is visible. */
const PROCEDURAL_FRAME_DELAY_MS = 250
const POLL_MS = 100

export interface DemoTuiOptions {
  /** Where the farm lives (default: a new temporary folder). */
  readonly dir?: string
  /** Force a renderer instead of Blender-when-installed. */
  readonly renderer?: 'blender' | 'procedural'
}

export interface DemoOptions extends DemoTuiOptions {
  readonly print: (line: string) => void
}

export interface DemoResult {
  readonly dir: string
  readonly targetDir: string
  readonly frames: number
  readonly software: Software
  readonly job: JobView
}

async function sampleScene (dir: string, forced: DemoOptions['renderer']): Promise<{ software: Software, scenePath: string }> {
  // No Blender here: the demo renders with the procedural renderer instead. Any other failure is the demo's to report.
  const blender = forced === 'procedural' ? undefined : await findExecutable('blender', undefined).catch((error: unknown) => {
    if (error instanceof ExecutableNotFoundError) return undefined
    throw error
  })
  if (blender !== undefined) {
    const scenePath = path.join(dir, 'scene.blend')
    await writeBlenderSampleScene(blender, scenePath, { frameEnd: DEMO_FRAMES })
    return { software: 'blender', scenePath }
  }
  if (forced === 'blender') throw new Error('Blender is not installed (apt-get install blender), so the demo cannot use it')
  const scenePath = path.join(dir, 'scene.json')
  await writeProceduralScene(scenePath, { width: 320, height: 180, frameDelayMs: PROCEDURAL_FRAME_DELAY_MS })
  return { software: 'procedural', scenePath }
}

/** Starts the nodes one after another, each bootstrapping from those before it. */
async function startNodes (dir: string, swarmKeyFile: string, loggerOf: (name: string) => Logger): Promise<RenderNode[]> {
  const nodes: RenderNode[] = []
  for (const name of DEMO_NODES) {
    const config = resolveNodeConfig({
      name,
      dataDir: path.join(dir, name),
      scratchDir: path.join(dir, name, 'scratch'),
      swarmKeyFile,
      mesh: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { enabled: false }, bootstrapPeers: nodes.flatMap((node) => node.mesh.addresses()) }
    }, 'demo')
    nodes.push(await RenderNode.start(config, { logger: loggerOf(name) }))
  }
  return nodes
}

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

/** The sample job, submitted by the first node; its id comes from its submit event. */
async function submitSample (first: RenderNode, software: Software, scenePath: string, targetDir: string): Promise<JobSpec> {
  const fields: JobFields = {
    name: 'demo_turntable', project: 'demo', user: userInfo().username, software, scenePath, targetPath: targetDir,
    frameStart: 1, frameEnd: DEMO_FRAMES, blockSize: DEMO_BLOCK_SIZE, layer: null, camera: null, imageName: 'turntable', imageFormat: 'png',
    commandTemplate: null, priority: 50, classification: 'A', maxRetries: 3, enabled: true
  }
  const { event: submitted } = await first.store.append({ type: 'job.submitted', job: fields }, Date.now())
  if (submitted.event.body.type !== 'job.submitted') throw new Error('the demo\'s submission wrote another kind of event')
  return submitted.event.body.job
}

export async function runDemo (options: DemoOptions): Promise<DemoResult> {
  const { print } = options
  const dir = options.dir ?? await mkdtemp(path.join(tmpdir(), 'constellation-demo-'))
  const swarmKeyFile = path.join(dir, 'swarm.key')
  await writeSwarmKey(swarmKeyFile)
  const { software, scenePath } = await sampleScene(dir, options.renderer)
  print(`Constellation Render demo in ${dir}`)
  print(`starting ${DEMO_NODES.length} render nodes on loopback (${software === 'blender' ? 'Blender' : 'the built-in procedural renderer'})`)
  const started = Date.now()
  const nodes = await startNodes(dir, swarmKeyFile, (name) => createLogger(name, { level: 'warn' }))
  const [first] = nodes
  if (first === undefined) throw new Error('no demo node started')
  try {
    const names = new Map(nodes.map((node) => [node.peerId, node.config.name]))
    const targetDir = path.join(dir, 'frames')
    // Watched from the submission on: none of its blocks moves before it.
    const job = await submitSample(first, software, scenePath, targetDir)
    print(`submitted ${job.name}: frames ${job.frameStart}-${job.frameEnd} in blocks of ${DEMO_BLOCK_SIZE}`)
    const stopWatching = first.store.onAppended(({ event }) => {
      const { body } = event
      if (!body.type.startsWith('block.') || !('epoch' in body) || body.jobId !== job.id) return
      const who = names.get(event.author) ?? event.author.slice(-8)
      const at = seconds(Date.now() - started)
      const frames = `frames ${job.frameStart + body.block * DEMO_BLOCK_SIZE}-${Math.min(job.frameEnd, job.frameStart + (body.block + 1) * DEMO_BLOCK_SIZE - 1)}`
      if (body.type === 'block.started') print(`${at.padStart(7)}  ${who} renders block ${body.block} (${frames})`)
      if (body.type === 'block.finished') print(`${at.padStart(7)}  ${who} finished block ${body.block} in ${seconds(body.wallMs)}`)
      if (body.type === 'block.failed') print(`${at.padStart(7)}  ${who} failed block ${body.block}: ${body.message}`)
    })
    let done: JobView | undefined
    while (done === undefined) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      const seen = first.store.view().jobs.find((candidate) => candidate.id === job.id)
      if (seen?.status === 'ERROR') throw new Error(`the demo job failed: ${seen.error ?? seen.blocks.find((block) => block.lastFailure !== null)?.lastFailure?.message ?? 'see the log'}`)
      if (seen?.status === 'DONE') done = seen
    }
    stopWatching()
    const frames = (await readdir(targetDir)).filter((file) => file.endsWith('.png')).length
    print('')
    print(`done in ${seconds(Date.now() - started)}: ${frames} frames in ${targetDir}`)
    print(`average render time ${seconds(done.renderTime.averageFrameMs ?? 0)} per frame`)
    for (const node of first.store.view().nodes) {
      if (node.renderTime.frames > 0) print(`  ${node.name}: ${node.renderTime.frames} frames, ${seconds(node.renderTime.averageFrameMs ?? 0)} per frame`)
    }
    return { dir, targetDir, frames, software, job: done }
  } finally {
    await Promise.all(nodes.map(async (node) => node.stop()))
  }
}

/**
 * The demo on a terminal: the same farm and job, shown live in the TUI by a controller
 * peer of its own (the farm's founder, so every key works), until the TUI is quit. The
 * nodes' records go to the TUI's log file, never to the screen.
 */
export async function runDemoInTui (options: DemoTuiOptions): Promise<void> {
  const dir = options.dir ?? await mkdtemp(path.join(tmpdir(), 'constellation-demo-'))
  const artistDir = path.join(dir, 'artist')
  const founder = peerIdFromPrivateKey(await loadOrCreateIdentity(artistDir)).toString()
  const swarmKeyFile = path.join(dir, 'swarm.key')
  await writeSwarmKey(swarmKeyFile, { founder })
  const logs = await logFileIn(artistDir)
  const { software, scenePath } = await sampleScene(dir, options.renderer)
  const nodes = await startNodes(dir, swarmKeyFile, logs.logger)
  const controller = new Controller({
    dataDir: artistDir,
    swarmKeyFile,
    mesh: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { enabled: false }, bootstrapPeers: nodes.flatMap((node) => node.mesh.addresses()) },
    logger: logs.logger('artist')
  })
  try {
    const [first] = nodes
    if (first === undefined) throw new Error('no demo node started')
    const job = await submitSample(first, software, scenePath, path.join(dir, 'frames'))
    await controller.open()
    await runTui({ controller, logger: logs.logger('tui'), farm: `demo in ${dir} (loopback)`, logFile: logs.file, timeoutMs: 10_000, startOnJob: job.id })
  } finally {
    await controller.close()
    await Promise.all(nodes.map(async (node) => node.stop()))
    await logs.close()
  }
}
