/**
 * `cr jobs` (the seed's job table) and `cr job show|halt|resume|enable|disable|priority|
 * retry|delete`. A job is named by its id, short id or a unique prefix. Every change is
 * one event, written once the controller has caught up, so it orders after what the
 * farm already knows.
 */
import type { Command } from 'commander'
import { findJob } from '../node/controller/resolve.js'
import type { EventBody } from '../protocol/events.js'
import { formatDurationS } from '../protocol/duration.js'
import type { BlockView, FarmView, JobView } from '../protocol/view.js'
import { inSession, withConnectionOptions, type ConnectionOptions } from './connection.js'
import { duration, elapsedMs, localTime, table } from './format.js'
import { nodeName } from './nodes.js'
import { numeric } from './parse.js'

interface ReadOptions extends ConnectionOptions {
  readonly json?: boolean
}

export function addJobsCommands (program: Command): void {
  withConnectionOptions(program.command('jobs'))
    .description('list the farm\'s jobs in scheduling order (the seed\'s job table)')
    .option('--json', 'print the jobs as JSON (without their blocks; see cr job show)')
    .action(async (options: ReadOptions) => {
      const view = await inSession(options, 'read', ({ controller }) => controller.view())
      if (options.json === true) console.log(JSON.stringify(view.jobs.map(({ blocks: _blocks, ...job }) => job)))
      else console.log(jobsTable(view.jobs))
    })

  const job = program.command('job').description('show or steer one job, named by its id, short id or a unique prefix')
  withConnectionOptions(job.command('show'))
    .description('a job and its blocks: status, holder, lease epoch, attempts, last failure')
    .argument('<job>', 'id, short id or unique prefix')
    .option('--json', 'print the job as JSON, blocks included')
    .action(async (ref: string, options: ReadOptions) => {
      const view = await inSession(options, 'read', ({ controller }) => controller.view())
      const found = findJob(view, ref)
      console.log(options.json === true ? JSON.stringify(found) : jobReport(found, view, Date.now()))
    })

  const edits: readonly [name: string, description: string, body: (jobId: string) => EventBody][] = [
    ['halt', 'stop handing out its blocks (status HALT)', (jobId) => edited(jobId, { halted: true })],
    ['resume', 'hand out its blocks again after a halt', (jobId) => edited(jobId, { halted: false })],
    ['enable', 'let nodes take it', (jobId) => edited(jobId, { enabled: true })],
    ['disable', 'keep nodes from taking it (as Error Return does after a fatal failure)', (jobId) => edited(jobId, { enabled: false })],
    ['retry', 'run its failed blocks again, with their attempts counted afresh', (jobId) => ({ type: 'job.retried', jobId })],
    ['delete', 'remove it from the farm', (jobId) => ({ type: 'job.deleted', jobId })]
  ]
  for (const [name, description, body] of edits) {
    withConnectionOptions(job.command(name))
      .description(description)
      .argument('<job>', 'id, short id or unique prefix')
      .action(async (ref: string, options: ConnectionOptions) => {
        await changeJob(options, ref, name, body)
      })
  }
  withConnectionOptions(job.command('priority'))
    .description('set its priority, 0-99 (higher renders first)')
    .argument('<job>', 'id, short id or unique prefix')
    .argument('<priority>', '0-99')
    .action(async (ref: string, priority: string, options: ConnectionOptions) => {
      await changeJob(options, ref, `priority ${priority}`, (jobId) => edited(jobId, { priority: numeric(priority) }))
    })
}

/** The body is checked by the protocol when it is written; a bad value exits 2 naming the field. */
function edited (jobId: string, changes: Record<string, unknown>): EventBody {
  return { type: 'job.edited', jobId, changes }
}

async function changeJob (options: ConnectionOptions, ref: string, what: string, body: (jobId: string) => EventBody): Promise<void> {
  const job = await inSession(options, 'write', async ({ controller, write }) => {
    const found = findJob(controller.view(), ref)
    await write(body(found.id))
    return found
  })
  console.log(`${what}: job ${job.shortId} (${job.name})`)
}

function jobsTable (jobs: readonly JobView[]): string {
  return table(
    ['ID', 'NAME', 'STATUS', 'ENABLED', 'PRI', 'CLASS', 'FRAMES', 'AVG/FRAME', 'USER', 'REGISTERED'],
    jobs.map((job) => [
      job.shortId, job.name, job.status, job.enabled ? 'ENABLED' : 'DISABLED', String(job.priority), job.classification,
      `${job.framesDone}/${job.framesTotal}`, duration(job.renderTime.averageFrameMs), job.user, localTime(job.registeredAt)
    ])
  )
}

/** A running block's time so far (from its start under the live lease), a finished one's wall time, else nothing. */
function blockTime (block: BlockView, nowMs: number): string {
  if (block.startedAt !== null) return `${duration(elapsedMs(block.startedAt, nowMs))} so far`
  return duration(block.wallMs)
}

function jobReport (job: JobView, view: FarmView, nowMs: number): string {
  const fields: [string, string][] = [
    ['job', `${job.shortId} ${job.id}`],
    ['name', job.name],
    ['status', `${job.status}${job.enabled ? '' : ' (DISABLED)'}${job.halted && job.status !== 'HALT' ? ' (halted)' : ''}`],
    ['project / user', `${job.project} / ${job.user}`],
    ['software', job.software],
    ['scene', job.scenePath],
    ['target', job.targetPath],
    ['frames', `${job.frameStart}-${job.frameEnd} in blocks of ${job.blockSize}; ${job.framesDone}/${job.framesTotal} done`],
    ['priority / class', `${job.priority} / ${job.classification}`],
    ['max retries', String(job.maxRetries)],
    ['timeout', job.timeoutPerFrameS === undefined ? 'the rendering node\'s default ([render] timeoutPerFrame), if any' : `${formatDurationS(job.timeoutPerFrameS)} per frame, plus the node's start-up grace`],
    ['render time', `${duration(job.renderTime.totalMs)} total, ${duration(job.renderTime.averageFrameMs)} per frame`],
    ['registered', localTime(job.registeredAt)],
    ...(job.error === null ? [] : [['error', job.error] as [string, string]])
  ]
  const width = Math.max(...fields.map(([label]) => label.length))
  const header = fields.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n')
  const blocks = table(
    ['BLOCK', 'FRAMES', 'STATUS', 'TIME', 'HOLDER', 'EPOCH', 'ATTEMPTS', 'LAST FAILURE'],
    job.blocks.map((block) => [
      String(block.index), `${block.frameStart}-${block.frameEnd}`, block.status, blockTime(block, nowMs),
      block.lease === null ? (block.finishedBy === null ? '-' : `(${nodeName(view, block.finishedBy)})`) : nodeName(view, block.lease.holder),
      String(block.epoch), String(block.attempts),
      block.lastFailure === null ? '-' : `${nodeName(view, block.lastFailure.node)}: ${block.lastFailure.failure}: ${block.lastFailure.message}`
    ])
  )
  return `${header}\n\n${blocks}`
}
