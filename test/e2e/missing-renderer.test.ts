/**
 * A renderer installed nowhere fails fast, in real `cr node` processes: each node that
 * finds it missing fails the block once and stops saying it runs that software, so no
 * node burns its retries on it, and once no node runs it the job is ERROR with the
 * failure as its reason. A restart restates the config's list (it may be installed now).
 */
import path from 'node:path'
import test from 'ava'
import type { JobView } from '../../src/protocol/view.js'
import { jobSpec } from '../helpers/farm-events.js'
import { RenderFarm } from '../helpers/render-farm.js'

test('a job whose renderer no node has is ERROR after one failure per node, naming it; the nodes stop taking its software', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  // An override to a file that is not there: "not installed" on any machine the test runs on.
  const render = { software: ['nuke', 'procedural'], executables: { nuke: path.join(farm.dir, 'no-such-nuke') } }
  const nodes = await Promise.all(['render-a', 'render-b'].map(async (name) => farm.startNode(name, { render })))
  await farm.until((view) => nodes.every((node) => view.nodes.some((entry) => entry.id === node.peerId && entry.software.includes('nuke'))) ? true : undefined, 'both nodes running nuke')
  const job = await farm.submit(jobSpec({
    name: 'comp', software: 'nuke', scenePath: path.join(farm.dir, 'comp.nk'), targetPath: path.join(farm.dir, 'frames'),
    frameStart: 1, frameEnd: 6, blockSize: 1, maxRetries: 10
  }))
  const failed = await farm.until((view): JobView | undefined => {
    const seen = view.jobs.find((candidate) => candidate.id === job.id)
    return seen?.status === 'ERROR' ? seen : undefined
  }, 'the nuke job ERROR')
  t.regex(failed.error ?? '', /^no node can run nuke \(none lists it in its \[render\] software, or it is not installed\): last failure on render-[ab] \(block \d\): no nuke executable found/)
  t.true(Object.values(failed.failuresByNode).every((count) => count === 1), JSON.stringify(failed.failuresByNode))
  const { store } = await farm.observer()
  for (const node of nodes) t.deepEqual(store.view().nodes.find((entry) => entry.id === node.peerId)?.software, ['procedural'])
  t.true(store.view().nodes.some((entry) => entry.lastFailure?.message.startsWith('no nuke executable found') === true), 'the node that failed last says why it is ERROR')

  // Restarted, a node is no longer ERROR for what its last run failed.
  const [first] = nodes
  if (first === undefined) throw new Error('no node started')
  first.signal('SIGTERM')
  await first.exited
  const restarted = await farm.startNode('render-a', { render: { software: ['procedural'] } })
  const fresh = await farm.until((view) => {
    const row = view.nodes.find((entry) => entry.id === restarted.peerId)
    return row !== undefined && !row.lastOutcomeFailed ? row : undefined
  }, 'render-a no longer ERROR after its restart')
  t.is(fresh.lastFailure, null)
})
