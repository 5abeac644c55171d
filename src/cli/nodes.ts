/**
 * `cr nodes` (the seed's client table, with liveness from heartbeats and connections) and
 * `cr node set|block|unblock`, which edit a node's entry from any machine: its name,
 * limits, classifications and working-hour schedule, as the client table allows.
 */
import type { Command } from 'commander'
import type { Controller } from '../node/controller/controller.js'
import { findNode } from '../node/controller/resolve.js'
import { describeSkew } from '../node/mesh/clock-skew.js'
import { localTimeIn } from '../node/local-time.js'
import { nodeStatus } from '../protocol/node-status.js'
import type { FarmView, NodeView } from '../protocol/view.js'
import { inSession, withConnectionOptions, type ConnectionOptions } from './connection.js'
import { UsageError } from './exit.js'
import { duration, elapsedMs, limit, printable, tableWriter, type TableWriter } from './format.js'
import { classesText, limitValue, parseClasses, parseSchedule, scheduleText } from './node-settings-text.js'
import { watch } from './watch.js'

interface SetOptions extends ConnectionOptions {
  readonly name?: string
  readonly memory?: string
  readonly threads?: string
  readonly workMemory?: string
  readonly workThreads?: string
  readonly classes?: string
  readonly schedule?: string
}

/** A node's name in the view, or the id's tail the view uses for nodes never named. */
export function nodeName (view: FarmView, peer: string): string {
  return view.nodes.find((node) => node.id === peer)?.name ?? peer.slice(-8)
}

const peerNames = new WeakMap<FarmView, Map<string, string>>()

/**
 * A peer in the words people know (who wrote a log row, who blocked a node): its name in
 * the client table, else the user named by the latest job it submitted (an artist's
 * machine has no other name), else the tail of its peer id. Worked out once per view.
 */
export function peerName (view: FarmView, peer: string): string {
  let names = peerNames.get(view)
  if (names === undefined) {
    names = new Map()
    // Oldest first, so each peer ends with the user of its latest job.
    for (const job of [...view.jobs].sort((a, b) => a.registeredAt - b.registeredAt)) names.set(job.submittedBy, job.user)
    for (const node of view.nodes) names.set(node.id, node.name)
    peerNames.set(view, names)
  }
  return names.get(peer) ?? peer.slice(-8)
}

export function addNodesCommand (program: Command): void {
  withConnectionOptions(program.command('nodes'))
    .description('list the render nodes: status and why, current job, limits, classes, schedule')
    .option('--json', 'print the nodes as JSON')
    .option('--watch', 'draw the list again every second, until Ctrl+C')
    .action(async (options: ConnectionOptions & { readonly json?: boolean, readonly watch?: boolean }) => {
      const table = options.json === true ? null : await tableWriter()
      await inSession(options, 'read', async ({ controller }) => {
        const first = nodeRows(controller)
        for (const node of first) {
          if (node.clockSkewMs !== null) console.error(`cr: warning: ${printable(node.name)}'s clock is ${describeSkew(node.clockSkewMs)} this machine's; working hours and times read off it are off too (check its time service)`)
        }
        const draw = (rows: readonly NodeRow[]): string => (table === null ? JSON.stringify(rows) : nodesTable(table, rows))
        if (options.watch === true) await watch(() => draw(nodeRows(controller)))
        else console.log(draw(first))
      })
    })
}

type NodeRow = ReturnType<typeof nodeRows>[number]

/** The client table as `cr nodes` shows it: each node with its status and why, and what it renders now. */
function nodeRows (controller: Pick<Controller, 'view' | 'livePeers' | 'clockSkewOf'>) {
  const view = controller.view()
  const live = controller.livePeers()
  const nowMs = Date.now()
  // Schedules are read in this machine's time zone: a studio's nodes and desks share one.
  const at = localTimeIn()(nowMs)
  return view.nodes.map((node) => {
    const current = currentBlock(view, node)
    const { status, reason } = nodeStatus(node, { live: live.has(node.id), at, nameOf: (peer) => peerName(view, peer) })
    return {
      ...node,
      status,
      /** Why it has that status: the failed block, who blocked it, its no-render window. */
      statusReason: reason,
      currentJob: current?.text ?? null,
      /** How long it has rendered its current block, by its own clock's start. */
      elapsedMs: current === null || current.startedAt === null ? null : elapsedMs(current.startedAt, nowMs),
      clockSkewMs: controller.clockSkewOf(node.id)
    }
  })
}

function nodesTable (table: TableWriter, rows: readonly NodeRow[]): string {
  return table(
    ['NAME', 'STATUS', 'JOB', 'ELAPSED', 'BLOCKED', 'MEMORY', 'THREADS', 'WORK MEMORY', 'WORK THREADS', 'CLASSES', 'SCHEDULE', 'PEER', 'REASON'],
    rows.map((node) => [
      node.name, node.status, node.currentJob ?? '-', duration(node.elapsedMs), node.blocked ? 'BLOCKED' : 'no',
      limit(node.memoryLimitMb, ' MB'), limit(node.threadLimit), limit(node.workMemoryLimitMb, ' MB'), limit(node.workThreadLimit),
      classesText(node.classifications), scheduleText(node.schedule), node.id.slice(-8), node.statusReason ?? '-'
    ])
  )
}

/** Adds set, block and unblock to the `node` command (which also runs a render node). */
export function addNodeSettingsCommands (node: Command): void {
  withConnectionOptions(node.command('set'))
    .description('edit a node\'s entry in the client table, from any machine')
    .argument('<node>', 'its name or peer id')
    .option('--name <name>', 'rename it')
    .option('--memory <mb>', 'memory limit in MB (-1 or "unlimited")')
    .option('--threads <n>', 'thread limit (-1 or "unlimited")')
    .option('--work-memory <mb>', 'memory limit inside work-hours windows')
    .option('--work-threads <n>', 'thread limit inside work-hours windows')
    .option('--classes <letters>', 'job classes it takes, e.g. A,B or "all"')
    .option('--schedule <windows>', 'weekly schedule, e.g. "mon-fri 09:00-18:00 work-hours; sat,sun 00:00-24:00 no-render", or "none"')
    .action(async (ref: string, options: SetOptions) => {
      const changes = {
        name: options.name,
        memoryLimitMb: limitValue(options.memory),
        threadLimit: limitValue(options.threads),
        workMemoryLimitMb: limitValue(options.workMemory),
        workThreadLimit: limitValue(options.workThreads),
        classifications: options.classes === undefined ? undefined : parseClasses(options.classes),
        schedule: options.schedule === undefined ? undefined : parseSchedule(options.schedule)
      }
      const given = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
      if (Object.keys(given).length === 0) throw new UsageError('cr node set', 'give at least one of --name --memory --threads --work-memory --work-threads --classes --schedule')
      await changeNode(options, ref, 'updated', given)
    })
  addNodeRemoveCommand(node)
  for (const [name, blocked] of [['block', true], ['unblock', false]] as const) {
    withConnectionOptions(node.command(name))
      .description(blocked ? 'keep a node from taking new blocks' : 'let a blocked node take blocks again')
      .argument('<node>', 'its name or peer id')
      .action(async (ref: string, options: ConnectionOptions) => {
        await changeNode(options, ref, `${name}ed`, { blocked })
      })
  }
}

/**
 * Takes a decommissioned node out of the client table (wranglers only, exit 5 for others):
 * no job then waits for it. A node that is up is refused: it would still be working. The
 * node's own next start puts it back.
 */
function addNodeRemoveCommand (node: Command): void {
  withConnectionOptions(node.command('remove'))
    .description('take a decommissioned node out of the client table (wranglers only)')
    .argument('<node>', 'its name or peer id')
    .action(async (ref: string, options: ConnectionOptions) => {
      const removed = await inSession(options, 'write', async ({ controller, write }) => {
        const found = findNode(controller.view(), ref)
        if (controller.livePeers().has(found.id)) throw new UsageError('cr node remove', `node ${found.name} is up; stop it (and its service) before removing it`)
        await write({ type: 'node.settings', node: found.id, changes: { removed: true } })
        return found
      })
      console.log(`removed node ${printable(removed.name)} (${removed.id}) from the client table`)
    })
}

/** Values are checked by the protocol when written; a bad one exits 2 naming the field. */
async function changeNode (options: ConnectionOptions, ref: string, what: string, changes: Record<string, unknown>): Promise<void> {
  const node = await inSession(options, 'write', async ({ controller, write }) => {
    const view = controller.view()
    const found = findNode(view, ref)
    // Names are how people reach nodes: two alike would leave one reachable by peer id only.
    const taken = view.nodes.find((other) => other.id !== found.id && other.name === changes.name)
    if (taken !== undefined) throw new UsageError('--name', `node name ${JSON.stringify(taken.name)} is taken by node ${taken.id}; choose another`)
    await write({ type: 'node.settings', node: found.id, changes })
    return found
  })
  console.log(`${what} node ${printable(node.name)} (${node.id})`)
}

/** The block a node holds: its job and index, and since when it renders it (null while only claimed). */
function currentBlock (view: FarmView, node: NodeView): { readonly text: string, readonly startedAt: number | null } | null {
  const [held] = node.holding
  if (held === undefined) return null
  const job = view.jobs.find((candidate) => candidate.id === held.jobId)
  const block = job?.blocks[held.block]
  const startedAt = block?.lease?.holder === node.id && block.lease.epoch === held.epoch ? block.startedAt : null
  return { text: `${job?.shortId ?? held.jobId} block ${held.block}`, startedAt }
}
