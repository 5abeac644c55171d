/**
 * The whole farm view, kept up to date incrementally: applying an event costs work in
 * proportion to what it changed (one block of one job, one job's steering, one node),
 * not to the size of the farm. The replica tells the cache what each event touched; the
 * next read derives again only the jobs and nodes touched since the last one, moves those
 * jobs to their new places in the scheduling order, and hands out a copy of that order.
 * A farm of 100,000 jobs reads about as fast after one event as a farm of one.
 */
import { Roles, type FarmAuthority } from './authority.js'
import { blockCount } from './frames.js'
import { JobTotals } from './job-totals.js'
import { NO_ACTIVITY_SUMMARY, NodeActivityTotals } from './node-activity.js'
import type { FarmRecords, JobRecord, Touched } from './records.js'
import { explainJob, NodeTable } from './stranded.js'
import {
  assembleJob, compareJobs, deriveBlock, deriveNode, steeringOf,
  type BlockView, type DerivedBlock, type DerivedJob, type FarmView, type JobView, type NodeView, type Steering
} from './view.js'

interface JobCache {
  steering: Steering | null
  /** Every block derived, with the job's totals over them; null to derive them all afresh. */
  blocks: { readonly derived: DerivedBlock[], readonly views: BlockView[], readonly totals: JobTotals } | null
  /** Blocks whose facts changed since they were derived. */
  readonly dirty: Set<number>
  /** As of the last read; null before the first. */
  derived: DerivedJob | null
  /** Its view as the last read listed it (status explained from the client table), or null when not listed. */
  listed: JobView | null
}

/** More jobs changed than this share of the farm: sort them all afresh rather than move each. */
const RESORT_SHARE = 1 / 16

function compareNodes (a: NodeView, b: NodeView): number {
  return a.name === b.name ? (a.id < b.id ? -1 : 1) : a.name < b.name ? -1 : 1
}

/** What a job's explanation reads of the client table (stranded.ts): while it holds, explanations stand. */
function tableKeyOf (nodes: readonly NodeView[]): string {
  return JSON.stringify(nodes.map((node) => [node.id, node.name, node.software, node.classifications]))
}

/** Where `job` goes in `order` (sorted by compareJobs): the first place whose job sorts at or after it. */
function placeOf (order: readonly JobView[], job: JobView): number {
  let low = 0
  let high = order.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (compareJobs(order[middle] as JobView, job) < 0) low = middle + 1
    else high = middle
  }
  return low
}

export class FarmViewCache {
  private roles: Roles | null = null
  private readonly jobs = new Map<string, JobCache>()
  /** Everything to derive afresh at the next read: at the start, and when authority moved. */
  private rebuild = true
  private readonly dirtyJobs = new Set<string>()
  private readonly dirtyNodes = new Set<string>()
  /** Each node's activity over the jobs, as of the last read. */
  private readonly activity = new Map<string, NodeActivityTotals>()
  private readonly nodeViews = new Map<string, NodeView>()
  private nodes: readonly NodeView[] = []
  private table = new NodeTable([])
  private tableKey = tableKeyOf([])
  /** Listed jobs in scheduling order. */
  private order: JobView[] = []
  private cached: FarmView | null = null

  constructor (private readonly records: FarmRecords, private readonly authority: FarmAuthority) {}

  /** Forgets what an applied event may have changed. */
  touched (touch: Touched): void {
    switch (touch.kind) {
      case 'none':
        return
      case 'role':
        // Authority moved: every job's steering and every node's settings may count differently.
        this.roles = null
        this.rebuild = true
        break
      case 'node':
        this.dirtyNodes.add(touch.id)
        break
      case 'job': {
        this.dirtyJobs.add(touch.id)
        const cache = this.jobs.get(touch.id)
        if (cache === undefined) break
        if (touch.meta) {
          cache.steering = null
          cache.blocks = null
          cache.dirty.clear()
        } else if (touch.block !== null) {
          cache.dirty.add(touch.block)
        }
      }
    }
    this.cached = null
  }

  view (): FarmView {
    if (this.cached !== null) return this.cached
    const roles = this.roles ??= new Roles(this.authority.founder, Object.values(this.records.roles))
    if (this.rebuild) this.startAfresh()
    const moved = this.deriveDirtyJobs(roles)
    const nodesMoved = this.deriveDirtyNodes(roles)
    // A job's status can rest on the client table (stranded.ts): when what it reads there changed, every job is explained again.
    const tableKey = nodesMoved ? tableKeyOf(this.nodes) : this.tableKey
    if (tableKey !== this.tableKey) {
      this.tableKey = tableKey
      this.table = new NodeTable(this.nodes)
      this.relistAll()
    } else if (moved.length > this.order.length * RESORT_SHARE) {
      this.relistAll()
    } else {
      for (const cache of moved) this.relist(cache)
    }
    this.cached = { jobs: this.order.slice(), nodes: this.nodes, founder: roles.founder, wranglers: roles.current() }
    return this.cached
  }

  private startAfresh (): void {
    this.rebuild = false
    this.jobs.clear()
    this.activity.clear()
    this.nodeViews.clear()
    this.nodes = []
    this.order = []
    for (const id of Object.keys(this.records.jobs)) this.dirtyJobs.add(id)
    for (const id of Object.keys(this.records.nodes)) this.dirtyNodes.add(id)
  }

  /** Derives the touched jobs again, moving each one's share of node activity; returns them. */
  private deriveDirtyJobs (roles: Roles): JobCache[] {
    const moved: JobCache[] = []
    for (const id of this.dirtyJobs) {
      const record = this.records.jobs[id]
      if (record === undefined) continue
      let cache = this.jobs.get(id)
      if (cache === undefined) this.jobs.set(id, cache = { steering: null, blocks: null, dirty: new Set(), derived: null, listed: null })
      const old = cache.derived
      const fresh = cache.derived = this.deriveJob(record, cache, roles)
      for (const node of old?.activity.keys() ?? []) if (!fresh.activity.has(node)) this.shareOf(node).set(id, undefined)
      for (const [node, share] of fresh.activity) this.shareOf(node).set(id, share)
      moved.push(cache)
    }
    this.dirtyJobs.clear()
    return moved
  }

  /** The node's activity totals, marking the node for its row to be derived again. */
  private shareOf (node: string): NodeActivityTotals {
    this.dirtyNodes.add(node)
    let totals = this.activity.get(node)
    if (totals === undefined) this.activity.set(node, totals = new NodeActivityTotals())
    return totals
  }

  /** Derives the touched nodes' rows again; false when none was touched. */
  private deriveDirtyNodes (roles: Roles): boolean {
    if (this.dirtyNodes.size === 0) return false
    for (const id of this.dirtyNodes) {
      const totals = this.activity.get(id)
      if (totals?.empty === true) this.activity.delete(id)
      const node = deriveNode(id, this.records.nodes[id], totals?.summary() ?? NO_ACTIVITY_SUMMARY, roles)
      if (node === null) this.nodeViews.delete(id)
      else this.nodeViews.set(id, node)
    }
    this.dirtyNodes.clear()
    this.nodes = [...this.nodeViews.values()].sort(compareNodes)
    return true
  }

  /** Every job explained again and the order sorted afresh. */
  private relistAll (): void {
    const order: JobView[] = []
    for (const cache of this.jobs.values()) {
      cache.listed = cache.derived?.view == null ? null : explainJob(cache.derived.view, this.table)
      if (cache.listed !== null) order.push(cache.listed)
    }
    this.order = order.sort(compareJobs)
  }

  /** Moves one job from its old place in the order to its new one (or out of it). */
  private relist (cache: JobCache): void {
    const old = cache.listed
    const view = cache.derived?.view ?? null
    const fresh = cache.listed = view === null ? null : explainJob(view, this.table)
    const at = old === null ? -1 : placeOf(this.order, old)
    if (old !== null && this.order[at] !== old) throw new Error(`the scheduling order lost job ${old.id}`)
    // Most events leave a job's priority and place as they were: it is replaced where it stands.
    if (old !== null && fresh !== null && compareJobs(old, fresh) === 0) {
      this.order[at] = fresh
      return
    }
    if (old !== null) this.order.splice(at, 1)
    if (fresh !== null) this.order.splice(placeOf(this.order, fresh), 0, fresh)
  }

  private deriveJob (record: JobRecord, cache: JobCache, roles: Roles): DerivedJob {
    const steering = cache.steering ??= steeringOf(record, roles)
    const spec = record.submission?.spec
    if (spec === undefined || steering.deleted) return assembleJob(record, steering, [], new JobTotals())
    const maxRetries = steering.fields.maxRetries?.value ?? spec.maxRetries
    const derive = (index: number): DerivedBlock => deriveBlock(record, spec, maxRetries, steering, index)
    if (cache.blocks === null) {
      const derived = Array.from({ length: blockCount(spec) }, (_, index) => derive(index))
      const totals = new JobTotals()
      for (const block of derived) totals.apply(block, 1)
      cache.blocks = { derived, views: derived.map((block) => block.view), totals }
    } else {
      const { derived, views, totals } = cache.blocks
      for (const index of cache.dirty) {
        const old = derived[index]
        // A fact about a block the job does not have changes nothing.
        if (old === undefined) continue
        const fresh = derive(index)
        totals.apply(old, -1)
        totals.apply(fresh, 1)
        derived[index] = fresh
        views[index] = fresh.view
      }
    }
    cache.dirty.clear()
    const { views, totals } = cache.blocks
    // The job's view gets its own copy of the list, so views handed out earlier never change.
    return assembleJob(record, steering, views.slice(), totals)
  }
}

/** The whole farm view from scratch (for checks and tests; peers keep a FarmViewCache). */
export function deriveView (records: FarmRecords, authority: FarmAuthority = { founder: null }): FarmView {
  return new FarmViewCache(records, authority).view()
}
