/**
 * `npm start` as a newcomer runs it: `cr demo` through bin/cr.js, three nodes rendering
 * the sample job with the built-in renderer, every frame on disk at the end. Without a
 * terminal it prints line by line; on one (tmux here) it shows the farm in the TUI.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { execa } from 'execa'
import { Terminal } from '../tui/terminal.js'

test('the demo renders all 24 frames of its sample job on three nodes and says where they are', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-demo-test-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const result = await execa(process.execPath, [path.resolve('bin/cr.js'), 'demo', '--renderer', 'procedural', '--dir', dir], { all: true, timeout: 120_000 })
  const frames = (await readdir(path.join(dir, 'frames'))).filter((file) => file.endsWith('.png'))
  t.is(frames.length, 24)
  t.regex(result.stdout, /done in [\d.]+ s: 24 frames in .*frames/)
  t.regex(result.stdout, /render0[123] renders block 0 \(frames 1-4\)/)
  t.regex(result.stdout, /average render time [\d.]+ s per frame/)
})

test('on a terminal the demo opens the TUI on its job, whose blocks finish across the three nodes', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-demo-tui-test-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const terminal = await Terminal.start([process.execPath, path.resolve('bin/cr.js'), 'demo', '--renderer', 'procedural', '--dir', dir])
  t.teardown(async () => terminal.stop())
  const done = await terminal.until((pane) => /demo_turntable \w{8} {2}DONE/.test(pane), 'the job done')
  t.regex(done, /3 peers\s+caught up/)
  const holders = new Set(Array.from(done.matchAll(/^\d+\s+\d+-\d+\s+DONE\s+(render0[123])/gm), ([, node]) => node))
  t.true(holders.size >= 2, `blocks finished on ${[...holders].join(', ')}`)
  await terminal.keys('q')
  t.regex(await terminal.until((pane) => pane.includes('cr exited with'), 'the demo ended'), /cr exited with 0/)
  t.is((await readdir(path.join(dir, 'frames'))).filter((file) => file.endsWith('.png')).length, 24)
})
