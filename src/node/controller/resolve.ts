/**
 * Names people type for jobs and nodes, resolved against the farm view: a job by its id,
 * short id or any unique prefix of either, else by its name when no other job has it; a
 * node by its name or peer id (or a unique prefix or suffix of the id, as the view shows
 * unnamed nodes by the id's tail). A name several share is refused with the candidates.
 */
import type { FarmView, JobView, NodeView } from '../../protocol/view.js'
import { AmbiguousJobError, AmbiguousNodeError, JobNotFoundError, NodeNotFoundError } from './errors.js'

/** The job `ref` names. Throws JobNotFoundError or AmbiguousJobError. */
export function findJob (view: FarmView, ref: string): JobView {
  const wanted = ref.toLowerCase()
  const compact = wanted.replaceAll('-', '')
  const exact = view.jobs.find((job) => job.id === wanted)
  if (exact !== undefined) return exact
  const byId = /^[0-9a-f]+$/.test(compact) ? view.jobs.filter((job) => job.id.replaceAll('-', '').startsWith(compact)) : []
  const matches = byId.length > 0 ? byId : view.jobs.filter((job) => job.name === ref)
  return single(matches, () => new JobNotFoundError(ref), (found) => new AmbiguousJobError(ref, found.map((job) => `${job.shortId} ${job.name}`)))
}

/** The node `ref` names. Throws NodeNotFoundError or AmbiguousNodeError. */
export function findNode (view: FarmView, ref: string): NodeView {
  const byId = view.nodes.find((node) => node.id === ref)
  if (byId !== undefined) return byId
  const byName = view.nodes.filter((node) => node.name === ref)
  const byIdPart = ref === '' ? [] : view.nodes.filter((node) => node.id.startsWith(ref) || node.id.endsWith(ref))
  const matches = byName.length > 0 ? byName : byIdPart
  return single(matches, () => new NodeNotFoundError(ref), (found) => new AmbiguousNodeError(ref, found.map((node) => `${node.name} ${node.id}`)))
}

function single<T> (matches: readonly T[], none: () => Error, many: (found: readonly T[]) => Error): T {
  const [first, ...rest] = matches
  if (first === undefined) throw none()
  if (rest.length > 0) throw many(matches)
  return first
}
