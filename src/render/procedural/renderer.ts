/**
 * The built-in procedural renderer, started as a child process by adapters/procedural.ts with
 * the node that runs the farm, so a fresh machine renders with nothing but `npm ci`. It
 * writes real PNG frames and speaks Blender's dialect on stdout ("Fra:", "Saved: '...'",
 * " Time: ..."), so the Blender rules read it. Threads are worker threads sharing each frame.
 *
 *   renderer --scene <file.json> --out <dir> --name <image> --frames 1,2,3 --threads <n>
 */
import { readFile, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { PNG } from 'pngjs'
import { padFrame } from '../adapters/rules.js'
import { renderRows } from './image.js'
import { parseProceduralScene } from './scene.js'
import type { ProceduralScene } from './scene.js'

interface Band {
  readonly frame: number
  readonly y0: number
  readonly y1: number
}

/** Exit codes in Blender's spirit: 1 for a scene it cannot read, 2 for a bad command line. */
const EXIT_SCENE = 1
const EXIT_USAGE = 2

class UsageError extends Error {
  override readonly name = 'UsageError'
}

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

function clock(ms: number): string {
  const minutes = Math.floor(ms / 60_000)
  const seconds = (ms % 60_000) / 1000
  return `${String(minutes).padStart(2, '0')}:${seconds.toFixed(2).padStart(5, '0')}`
}

function readOptions(): { scenePath: string; out: string; name: string; frames: number[]; threads: number } {
  const { values } = parseArgs({
    options: {
      scene: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      frames: { type: 'string' },
      threads: { type: 'string', default: '1' }
    },
    strict: true
  })
  const { scene, out, name, frames } = values
  if (scene === undefined || out === undefined || name === undefined || frames === undefined) throw new UsageError('--scene, --out, --name and --frames are required')
  const list = frames.split(',').map(Number)
  if (list.some((f) => !Number.isSafeInteger(f))) throw new UsageError(`--frames ${frames} is not a comma list of integers`)
  const threads = Number(values.threads)
  if (!Number.isSafeInteger(threads)) throw new UsageError(`--threads ${values.threads} is not an integer`)
  return { scenePath: scene, out, name, frames: list, threads: threads > 0 ? threads : availableParallelism() }
}

async function loadScene(scenePath: string): Promise<ProceduralScene | undefined> {
  let text: string
  try {
    text = await readFile(scenePath, 'utf8')
  } catch (err) {
    const detail = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (err as Error).message
    say(`Error: Cannot read file '${scenePath}': ${detail}`)
    return undefined
  }
  try {
    return parseProceduralScene(text)
  } catch {
    // Reported as the renderer's own error line, which the output rules classify.
    say(`Error: File format is not supported in file '${scenePath}'`)
    return undefined
  }
}

/** Renders bands on worker threads; with one thread, in this one (no worker start-up cost). */
class BandPool {
  private readonly workers: Worker[]

  constructor(private readonly scene: ProceduralScene, threads: number) {
    this.workers = threads > 1 ? Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: scene })) : []
  }

  get size(): number {
    return Math.max(1, this.workers.length)
  }

  render(band: Band, index: number): Promise<Uint8Array> {
    const worker = this.workers[index % this.workers.length]
    if (worker === undefined) return Promise.resolve(renderRows(this.scene, band.frame, band.y0, band.y1))
    return new Promise((resolve, reject) => {
      worker.once('message', (pixels: Uint8Array) => {
        worker.off('error', reject)
        resolve(pixels)
      })
      worker.once('error', reject)
      worker.postMessage(band)
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

async function renderFrame(pool: BandPool, scene: ProceduralScene, frame: number): Promise<Buffer> {
  const started = performance.now()
  const rowsPerBand = Math.ceil(scene.height / pool.size)
  const bands: Band[] = []
  for (let y0 = 0; y0 < scene.height; y0 += rowsPerBand) bands.push({ frame, y0, y1: Math.min(scene.height, y0 + rowsPerBand) })
  let done = 0
  const parts = await Promise.all(bands.map(async (band, i) => {
    const pixels = await pool.render(band, i)
    say(`Fra:${frame} | Time:${clock(performance.now() - started)} | Sample ${++done}/${bands.length}`)
    return pixels
  }))
  const png = new PNG({ width: scene.width, height: scene.height })
  Buffer.concat(parts).copy(png.data)
  return PNG.sync.write(png)
}

async function main(): Promise<void> {
  let options
  try {
    options = readOptions()
  } catch (err) {
    say(`Error: ${(err as Error).message}`)
    process.exitCode = EXIT_USAGE
    return
  }
  const scene = await loadScene(options.scenePath)
  if (scene === undefined) {
    process.exitCode = EXIT_SCENE
    return
  }
  say(`Procedural renderer: ${scene.width}x${scene.height}, ${options.frames.length} frame(s), ${options.threads} thread(s)`)
  const pool = new BandPool(scene, options.threads)
  try {
    for (const frame of options.frames) {
      const started = performance.now()
      const encoded = await renderFrame(pool, scene, frame)
      await sleep(scene.frameDelayMs)
      const saving = performance.now()
      const file = path.join(options.out, `${options.name}_${padFrame(frame, 4)}.png`)
      await writeFile(file, encoded)
      say(`Saved: '${file}'`)
      say(` Time: ${clock(performance.now() - started)} (Saving: ${clock(performance.now() - saving)})`)
    }
  } finally {
    await pool.close()
  }
}

function serveBands(port: NonNullable<typeof parentPort>): void {
  const scene = workerData as ProceduralScene
  port.on('message', (band: Band) => {
    const pixels = renderRows(scene, band.frame, band.y0, band.y1)
    port.postMessage(pixels, [pixels.buffer])
  })
}

if (isMainThread) await main()
else if (parentPort !== null) serveBands(parentPort)
