/**
 * `npm start` as a newcomer runs it: `cr demo` through bin/cr.js, three nodes rendering
 * the sample job with the built-in renderer, every frame on disk at the end.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { execa } from 'execa'

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
