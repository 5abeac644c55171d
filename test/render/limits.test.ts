import path from 'node:path'
import test from 'ava'
import { CgroupUnavailableError, findCgroupHost, parseCgroupHosts } from '../../src/render/limits/cgroup.js'
import { parseProcStat, treeOf } from '../../src/render/process-tree.js'
import { renderBlock } from '../../src/render/render-block.js'
import type { RenderOptions } from '../../src/render/render-block.js'
import type { RenderResult } from '../../src/render/result.js'
import { FAKE_RENDERER, fakeScene, makeTask, tempDir } from '../fixtures/render/helpers.js'
import type { ExecutionContext } from 'ava'

const HYBRID_MOUNTINFO = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw'
].join('\n')

test('cgroup hosts: a v1 hybrid host (this machine\'s layout) offers v2 first, then v1 memory', (t) => {
  const own = '9:name=systemd:/\n4:memory:/process_api/e675\n1:cpu:/\n0::/\n'
  t.deepEqual(parseCgroupHosts(own, HYBRID_MOUNTINFO), [
    { version: 2, parentDir: '/sys/fs/cgroup/unified' },
    { version: 1, parentDir: '/sys/fs/cgroup/memory/process_api/e675' }
  ])
})

test('cgroup hosts: pure v2, inside a cgroup namespace whose root is mounted', (t) => {
  const mountinfo = '30 24 0:26 /system.slice/cr.service /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate'
  t.deepEqual(parseCgroupHosts('0::/system.slice/cr.service/render\n', mountinfo), [{ version: 2, parentDir: '/sys/fs/cgroup/render' }])
  t.deepEqual(parseCgroupHosts('0::/\n', ''), [], 'no cgroup2 mount, no host')
})

test('process table: /proc stat lines with awkward command names, and trees', (t) => {
  const page = 4
  t.deepEqual(parseProcStat('4242 (Render (x) 1) S 4000 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 100 1000 2560 18446744073709551615', page), { pid: 4242, ppid: 4000, pgid: 4242, rssKb: 10240 })
  t.is(parseProcStat('garbage', page), undefined)
  const table = [
    { pid: 1, ppid: 0, pgid: 1, rssKb: 1 },
    { pid: 10, ppid: 1, pgid: 10, rssKb: 100 },
    { pid: 11, ppid: 10, pgid: 10, rssKb: 50 },
    { pid: 12, ppid: 11, pgid: 12, rssKb: 25 },
    { pid: 13, ppid: 1, pgid: 10, rssKb: 5 },
    { pid: 20, ppid: 1, pgid: 20, rssKb: 999 }
  ]
  t.deepEqual(treeOf(table, 10).map((p) => p.pid).sort((a, b) => a - b), [10, 11, 12, 13], 'descendants (even after setsid) and group members (even orphaned)')
})

async function allocate(t: ExecutionContext, options: RenderOptions): Promise<RenderResult> {
  const dir = await tempDir(t)
  return renderBlock(
    makeTask({ software: 'maya-software', scenePath: await fakeScene(dir, { mode: 'alloc' }), targetDir: path.join(dir, 'target'), executables: { maya: FAKE_RENDERER }, limits: { threads: 1, memoryMb: 300 } }),
    { scratchRoot: path.join(dir, 'scratch'), ...options }
  )
}

test('memory limit by watchdog: a renderer allocating past its limit is killed with the message', async (t) => {
  const result = await allocate(t, { memoryEnforcement: 'watchdog', watchdogIntervalMs: 100 })
  t.like(result, { kind: 'failed', failure: 'retryable', reason: 'memory-limit', message: 'memory limit 300 MB exceeded' })
  if (result.kind === 'failed') t.true(result.outputTail.some((l) => l.startsWith('allocated')))
})

test('memory limit by cgroup: the kernel stops the renderer and the block says why', async (t) => {
  try {
    await findCgroupHost()
  } catch (err) {
    if (!(err instanceof CgroupUnavailableError)) throw err
    // CI runs as root with a writable memory cgroup; a machine without one fails here, saying why.
    t.fail(`no writable memory cgroup here (${err.message}): run the tests as root on a host with cgroups`)
    return
  }
  const fellBack: string[] = []
  const result = await allocate(t, { logger: { debug: (msg) => fellBack.push(msg), warn: (msg) => fellBack.push(msg) } })
  t.deepEqual(fellBack, [], 'the cgroup, not the watchdog, held the limit')
  t.like(result, { kind: 'failed', failure: 'retryable', reason: 'memory-limit', message: 'memory limit 300 MB exceeded' })
})
