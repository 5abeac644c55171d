/**
 * The whole farm view, kept up to date incrementally: applying an event costs work in
 * proportion to what it changed (one block of one job, one job's steering, one node),
 * not to the size of the farm. The replica tells the cache what each event touched; the
 * view is re-assembled lazily, on the next read, from what is still cached.
 */
import { Roles, type FarmAuthority } from './authority.js'
import { blockCount } from './frames.js'
import type { FarmRecords, JobRecord, Touched } from './records.js'
import { JobTotals } from './job-totals.js'
import { explainJob, NodeTable } from './stranded.js'
import {
  assembleJob, compareJobs, deriveBlock, deriveNode, steeringOf,
  type BlockView, type DerivedBlock, type DerivedJob, type FarmView, type JobView, type NodeActivity, type NodeView, type Steering
} from './view.js'

interface JobCache {
  steering: Steering | null
  /** Every block derived, with the job's totals over them; null to derive them all afresh. */
  blocks: { readonly derived: DerivedBlock[], readonly views: BlockView[], readonly totals: JobTotals } | null
  /** Blocks whose facts changed since they were derived. */
  readonly dirty: Set<number>
  derived: DerivedJob | null
}

export class FarmViewCache {
  private roles: Roles | null = null
  private readonly jobs = new Map<string, JobCache>()
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
        this.jobs.clear()
        break
      case 'node':
        break
      case 'job': {
        const cache = this.jobs.get(touch.id)
        if (cache === undefined) break
        cache.derived = null
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
    const derivedJobs = this.deriveJobs(roles)
    const nodes = this.deriveNodes(roles, derivedJobs)
    // A job's status can rest on the client table (stranded.ts), which every node change moves.
    const table = new NodeTable(nodes)
    const jobs = derivedJobs.map((job) => job.view).filter((job): job is JobView => job !== null).map((job) => explainJob(job, table)).sort(compareJobs)
    this.cached = { jobs, nodes, founder: roles.founder, wranglers: roles.current() }
    return this.cached
  }

  private deriveJobs (roles: Roles): DerivedJob[] {
    const derived: DerivedJob[] = []
    for (const [id, record] of Object.entries(this.records.jobs)) {
      let cache = this.jobs.get(id)
      if (cache === undefined) this.jobs.set(id, cache = { steering: null, blocks: null, dirty: new Set(), derived: null })
      cache.derived ??= this.deriveJob(record, cache, roles)
      derived.push(cache.derived)
    }
    return derived
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

  /** Every node's row: few enough (one per machine) to assemble afresh from the jobs' activity. */
  private deriveNodes (roles: Roles, jobs: readonly DerivedJob[]): NodeView[] {
    const activity = new Map<string, NodeActivity[]>()
    for (const job of jobs) {
      for (const [node, entry] of job.activity) {
        const list = activity.get(node)
        if (list === undefined) activity.set(node, [entry])
        else list.push(entry)
      }
    }
    const ids = new Set([...Object.keys(this.records.nodes), ...activity.keys()])
    return [...ids]
      .map((id) => deriveNode(id, this.records.nodes[id], activity.get(id) ?? [], roles))
      .filter((node): node is NodeView => node !== null)
      .sort((a, b) => (a.name === b.name ? (a.id < b.id ? -1 : 1) : a.name < b.name ? -1 : 1))
  }
}

/** The whole farm view from scratch (for checks and tests; peers keep a FarmViewCache). */
export function deriveView (records: FarmRecords, authority: FarmAuthority = { founder: null }): FarmView {
  return new FarmViewCache(records, authority).view()
}
