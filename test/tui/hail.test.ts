/**
 * Truth on arrival, over a real mesh: the TUI's controller hails the holders the log
 * shows, so a holder that answers stays RENDERING and one that is gone shows LOST,
 * whatever the log still says. A real `cr node` process renders; it is SIGKILLed.
 */
import path from 'node:path'
import test from 'ava'
import { Controller } from '../../src/node/controller/controller.js'
import { silentLogger } from '../../src/node/log.js'
import { ControllerFarmSource } from '../../src/tui/controller-source.js'
import { blockRows } from '../../src/tui/model/job-detail.js'
import { RenderFarm } from '../helpers/render-farm.js'

async function until (check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`no ${what} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('a holder that answers the hail stays RENDERING; once it is killed, its block shows LOST', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const { job, holder } = await farm.renderOneBlock(['a'], { frameDelayMs: 30_000, frames: 1 })
  const controller = new Controller({
    dataDir: path.join(farm.dir, 'artist'),
    swarmKeyFile: farm.swarmKeyFile,
    mesh: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { serviceTag: farm.mdnsTag, queryIntervalMs: 500 } },
    logger: silentLogger()
  })
  await controller.open()
  t.teardown(async () => controller.close())
  const source = new ControllerFarmSource({ controller, logger: silentLogger(), farm: farm.mdnsTag, logFile: '/dev/null', timeoutMs: 10_000 })
  t.teardown(() => { source.stop() })
  await source.start()
  const block = (): string | undefined => {
    const snapshot = source.snapshot()
    const seen = snapshot.view.jobs.find((candidate) => candidate.id === job.id)
    return seen === undefined ? undefined : blockRows(seen, snapshot, Date.now())[0]?.status
  }
  await until(() => source.snapshot().mesh.sync.phase === 'live' && block() === 'RENDERING', 'the block rendering')
  // Hailed on arrival and answered: well past a hail's timeouts, the holder is not gone.
  await new Promise((resolve) => setTimeout(resolve, 4_000))
  t.false(source.snapshot().goneHolders.has(holder.peerId))
  t.is(block(), 'RENDERING')

  holder.signal('SIGKILL')
  await holder.exited
  await until(() => block() === 'LOST', 'the block shown LOST')
  t.true(source.snapshot().goneHolders.has(holder.peerId))
  // The log itself still says RENDERING: only hail knows better.
  t.is(source.snapshot().view.jobs.find((candidate) => candidate.id === job.id)?.blocks[0]?.status, 'RENDERING')
})
