/**
 * The records of running render groups and the sweep at a node's start, with real
 * process groups: a render whose node died is killed whole (its leader and what it
 * forked, or what it forked alone when the leader is gone); a recorded pid that is
 * another process now, a render whose node still runs and a torn record are left alone.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { processStartOf } from '../../src/render/process-tree.js'
import { recordRenderGroup, sweepRenderGroups } from '../../src/render/render-groups.js'
import { isAlive, tempDir } from '../fixtures/render/helpers.js'

/** A process group like a renderer's: a leader (sh) and a child it forked; returns both pids. */
async function startGroup (t: ExecutionContext, script = 'sleep 300 & echo $!; wait'): Promise<{ leader: number, child: number }> {
  const sh = spawn('/bin/sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] })
  const [line] = await once(sh.stdout, 'data') as [Buffer]
  const leader = sh.pid as number
  const child = Number(line.toString().trim())
  t.teardown(() => {
    for (const pid of [-leader, child]) {
      try { process.kill(pid, 'SIGKILL') } catch { /* already gone: the test's point, mostly */ }
    }
  })
  return { leader, child }
}

/** A pid that belonged to a process which has exited: a node killed under its renders. */
async function deadPid (): Promise<number> {
  const gone = spawn('/bin/true')
  await once(gone, 'exit')
  return gone.pid as number
}

async function ownedByDeadNode (dir: string, group: number): Promise<void> {
  const file = path.join(dir, `${group}.json`)
  const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  await writeFile(file, JSON.stringify({ ...record, owner: await deadPid(), ownerStart: 'a node that is gone' }))
}

async function untilDead (pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if (!await isAlive(pid)) return true
    await sleep(50)
  }
  return false
}

test('a render whose node died is killed at the sweep, leader and child, and its record removed', async (t) => {
  const dir = path.join(await tempDir(t), '.render-groups')
  const { leader, child } = await startGroup(t)
  await recordRenderGroup(dir, leader, { label: 'cr-job-0-1', cgroupDir: undefined })
  await ownedByDeadNode(dir, leader)
  t.deepEqual(await sweepRenderGroups(dir), [{ outcome: 'killed', group: leader, label: 'cr-job-0-1' }])
  t.true(await untilDead(leader), 'the leader is gone')
  t.true(await untilDead(child), 'what it forked is gone')
  t.deepEqual(await readdir(dir), [])
})

test('helpers left in the group after their leader exited are killed too', async (t) => {
  const dir = path.join(await tempDir(t), '.render-groups')
  const { leader, child } = await startGroup(t, 'sleep 300 & echo $!; exec sleep 301')
  await recordRenderGroup(dir, leader, { label: 'cr-job-1-1', cgroupDir: undefined })
  process.kill(leader, 'SIGKILL')
  t.true(await untilDead(leader))
  t.true(await isAlive(child), 'the helper outlived its leader')
  await ownedByDeadNode(dir, leader)
  t.deepEqual(await sweepRenderGroups(dir), [{ outcome: 'killed', group: leader, label: 'cr-job-1-1' }])
  t.true(await untilDead(child))
})

test('a recorded pid that is another process now is left alone', async (t) => {
  const dir = path.join(await tempDir(t), '.render-groups')
  const { leader, child } = await startGroup(t)
  await recordRenderGroup(dir, leader, { label: 'cr-job-2-1', cgroupDir: undefined })
  const file = path.join(dir, `${leader}.json`)
  const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  // As if the render had ended long ago and its pid been handed to this unrelated process.
  await writeFile(file, JSON.stringify({ ...record, groupStart: `${await processStartOf(leader)}-earlier`, owner: await deadPid() }))
  t.deepEqual(await sweepRenderGroups(dir), [{ outcome: 'pid-reused', group: leader, label: 'cr-job-2-1' }])
  t.true(await isAlive(leader))
  t.true(await isAlive(child))
  t.deepEqual(await readdir(dir), [])
})

test('a render of a node still running is left alone, record and all; a torn record is dropped; nothing recorded, nothing swept', async (t) => {
  const root = await tempDir(t)
  const dir = path.join(root, '.render-groups')
  t.deepEqual(await sweepRenderGroups(dir), [], 'no folder: no leftovers')
  const { leader, child } = await startGroup(t)
  const unrecord = await recordRenderGroup(dir, leader, { label: 'cr-job-3-1', cgroupDir: undefined })
  await writeFile(path.join(dir, '4242.json'), '{"group": 42')
  const swept = await sweepRenderGroups(dir)
  t.like(swept, [{ outcome: 'unreadable', file: path.join(dir, '4242.json') }])
  t.true(await isAlive(leader))
  t.true(await isAlive(child))
  t.deepEqual(await readdir(dir), [`${leader}.json`])
  await unrecord()
  t.deepEqual(await readdir(dir), [], 'an ended render takes its record with it')
})
