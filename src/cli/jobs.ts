/**
 * `cr jobs` (the seed's job table) and `cr job show|halt|resume|enable|disable|priority|
 * retry|delete`. A job is named by its id, short id, a unique prefix or its name. Every change is
 * one event, written once the controller has caught up, so it orders after what the
 * farm already knows.
 */
import type { Command } from 'commander'
import { findJob } from '../node/controller/resolve.js'
import type { EventBody, JobFields } from '../protocol/events.js'
import { jobFieldsSchema } from '../protocol/schemas.js'
import { formatDurationS } from '../protocol/duration.js'
import type { BlockView, FarmView, JobView } from '../protocol/view.js'
import { inSession, withConnectionOptions, type ConnectionOptions } from './connection.js'
import { UsageError } from './exit.js'
import { duration, elapsedMs, localTime, printable, shortIdOf, tableWriter, type TableWriter } from './format.js'
import { nodeName } from './nodes.js'
import { numeric } from './parse.js'
import { watch } from './watch.js'

const JOB_REF = 'its id, short id, a unique prefix, or its name if no other job has it'

interface ReadOptions extends ConnectionOptions {
  readonly json?: boolean
}

export function addJobsCommands (program: Command): void {
  withConnectionOptions(program.command('jobs'))
    .description('list the farm\'s jobs in the order nodes take them (highest priority first): status, progress, average frame time, and why a job is ERROR')
    .option('--json', 'print the jobs as JSON (without their blocks; see cr job show)')
    .option('--watch', 'draw the list again every second, until Ctrl+C')
    .action(async (options: ReadOptions & { readonly watch?: boolean }) => {
      const table = options.json === true ? null : await tableWriter()
      await inSession(options, 'read', async ({ controller }) => {
        const draw = (): string => {
          const { jobs } = controller.view()
          return table === null ? JSON.stringify(jobs.map(({ blocks: _blocks, ...job }) => job)) : jobsTable(table, jobs)
        }
        if (options.watch === true) await watch(draw)
        else console.log(draw())
      })
    })

  const job = program.command('job').description('show or steer one job, named by its id, short id, a unique prefix or its name')
  withConnectionOptions(job.command('show'))
    .description('a job and its blocks: status, holder, lease epoch, attempts, last failure')
    .argument('<job>', JOB_REF)
    .option('--json', 'print the job as JSON, blocks included')
    .action(async (ref: string, options: ReadOptions) => {
      const view = await inSession(options, 'read', ({ controller }) => controller.view())
      const found = findJob(view, ref)
      console.log(options.json === true ? JSON.stringify(found) : jobReport(await tableWriter(), found, view, Date.now()))
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
      .argument('<job>', JOB_REF)
      .action(async (ref: string, options: ConnectionOptions) => {
        await changeJob(options, ref, name, ({ id }) => body(id))
      })
  }
  withConnectionOptions(job.command('rerender'))
    .description('render it again, done or not: all of it, or the blocks holding --frames (frames at the target are replaced)')
    .argument('<job>', JOB_REF)
    .option('--frames <start-end>', 'only these frames, e.g. 10-20 or 7 (default: the whole job)')
    .action(async (ref: string, options: ConnectionOptions & { readonly frames?: string }) => {
      await changeJob(options, ref, 're-render', (found) => {
        const frames = options.frames === undefined ? { start: found.frameStart, end: found.frameEnd } : frameRange(options.frames, found)
        return { type: 'job.retried', jobId: found.id, frames }
      })
    })
  withConnectionOptions(job.command('clone'))
    .description('submit it again as a new job, with the same fields (as steered now) and a new id')
    .argument('<job>', JOB_REF)
    .action(async (ref: string, options: ConnectionOptions) => {
      const { source, written } = await inSession(options, 'write', async ({ controller, write }) => {
        const found = findJob(controller.view(), ref)
        return { source: found, written: await write({ type: 'job.submitted', job: fieldsOf(found) }) }
      })
      const { body } = written.event
      if (body.type !== 'job.submitted') throw new Error(`wrote a ${body.type} event for a clone`)
      console.log(`cloned job ${source.shortId} (${printable(source.name)}) as job ${shortIdOf(body.job.id)} (${body.job.id})`)
    })
  withConnectionOptions(job.command('priority'))
    .description('set its priority, 0-99 (higher renders first)')
    .argument('<job>', JOB_REF)
    .argument('<priority>', '0-99')
    .action(async (ref: string, priority: string, options: ConnectionOptions) => {
      await changeJob(options, ref, `priority ${priority}`, ({ id }) => edited(id, { priority: numeric(priority) }))
    })
}

/** The body is checked by the protocol when it is written; a bad value exits 2 naming the field. */
function edited (jobId: string, changes: Record<string, unknown>): EventBody {
  return { type: 'job.edited', jobId, changes }
}

async function changeJob (options: ConnectionOptions, ref: string, what: string, body: (job: JobView) => EventBody): Promise<void> {
  const job = await inSession(options, 'write', async ({ controller, write }) => {
    const found = findJob(controller.view(), ref)
    await write(body(found))
    return found
  })
  console.log(`${what}: job ${job.shortId} (${printable(job.name)})`)
}

/** `A-B` or one frame `A`, within the job's range (a re-render of frames it lacks would do nothing). */
function frameRange (text: string, job: JobView): { start: number, end: number } {
  const match = /^(-?\d+)(?:-(-?\d+))?$/.exec(text.trim())
  const start = Number(match?.[1])
  const end = match?.[2] === undefined ? start : Number(match[2])
  if (match === null || end < start) throw new UsageError('--frames', `must be START-END such as 10-20, or one frame; got ${JSON.stringify(text)}`)
  if (end < job.frameStart || start > job.frameEnd) throw new UsageError('--frames', `${start}-${end} is outside job ${job.shortId}'s frames ${job.frameStart}-${job.frameEnd}`)
  return { start, end }
}

/** A job's fields as a submission carries them: its current steering included, its id and derived columns left out. */
function fieldsOf (job: JobView): JobFields {
  const fields = Object.entries(job).filter(([field, value]) => field in jobFieldsSchema.shape && value !== undefined)
  return { ...Object.fromEntries(fields), enabled: true } as JobFields
}

function jobsTable (table: TableWriter, jobs: readonly JobView[]): string {
  return table(
    ['ID', 'NAME', 'STATUS', 'ENABLED', 'PRI', 'CLASS', 'FRAMES', 'AVG/FRAME', 'USER', 'REGISTERED', 'REASON'],
    jobs.map((job) => [
      job.shortId, job.name, job.status, job.enabled ? 'ENABLED' : 'DISABLED', String(job.priority), job.classification,
      `${job.framesDone}/${job.framesTotal}`, duration(job.renderTime.averageFrameMs), job.user, localTime(job.registeredAt), job.error ?? '-'
    ])
  )
}

/** A running block's time so far (from its start under the live lease), a finished one's wall time, else nothing. */
function blockTime (block: BlockView, nowMs: number): string {
  if (block.startedAt !== null) return `${duration(elapsedMs(block.startedAt, nowMs))} so far`
  return duration(block.wallMs)
}

function jobReport (table: TableWriter, job: JobView, view: FarmView, nowMs: number): string {
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
  // Every value may hold what someone typed (names, paths, a renderer's message): shown, never acted on.
  const header = fields.map(([label, value]) => `${label.padEnd(width)}  ${printable(value)}`).join('\n')
  const blocks = table(
    ['BLOCK', 'FRAMES', 'STATUS', 'TIME', 'HOLDER', 'EPOCH', 'ATTEMPTS', 'LAST FAILURE'],
    blockRuns(job.blocks).map((run) => {
      if (run.kind === 'untouched') return [`${run.first.index}-${run.last.index}`, `${run.first.frameStart}-${run.last.frameEnd}`, 'QUEUE', '-', '-', '0', '0', '-']
      const { block } = run
      return [
        String(block.index), `${block.frameStart}-${block.frameEnd}`, block.status, blockTime(block, nowMs),
        block.lease === null ? (block.finishedBy === null ? '-' : `(${nodeName(view, block.finishedBy)})`) : nodeName(view, block.lease.holder),
        String(block.epoch), String(block.attempts),
        block.lastFailure === null ? '-' : `${nodeName(view, block.lastFailure.node)}: ${block.lastFailure.failure}: ${block.lastFailure.message}`
      ]
    })
  )
  return `${header}\n\n${blocks}`
}

type BlockRun =
  | { readonly kind: 'one', readonly block: BlockView }
  | { readonly kind: 'untouched', readonly first: BlockView, readonly last: BlockView }

/** Never claimed: nothing to say about it but its frames. */
function untouched (block: BlockView): boolean {
  return block.status === 'QUEUE' && block.epoch === 0
}

/**
 * The blocks as rows, each run of two or more untouched blocks folded into one, so that a
 * job of 50,000 blocks shows what happened to it in as many rows as blocks were started.
 */
function blockRuns (blocks: readonly BlockView[]): BlockRun[] {
  const runs: BlockRun[] = []
  for (let index = 0; index < blocks.length;) {
    const first = blocks[index] as BlockView
    let end = index
    while (untouched(first) && end + 1 < blocks.length && untouched(blocks[end + 1] as BlockView)) end++
    runs.push(end === index ? { kind: 'one', block: first } : { kind: 'untouched', first, last: blocks[end] as BlockView })
    index = end + 1
  }
  return runs
}
