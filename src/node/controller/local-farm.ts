/**
 * A controller as its data directory's local endpoint serves it (../local/endpoint.ts):
 * reads from its copy, writes through its own `write`, judged and confirmed as its own.
 */
import type { LocalFarm } from '../local/endpoint.js'
import type { Refusal } from '../local/errors.js'
import { InvalidEventError } from '../../protocol/errors.js'
import type { Controller } from './controller.js'
import { NoPeerReachableError, NotAllowedError } from './errors.js'

export function refusalOf (error: unknown): Refusal {
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof NotAllowedError) return { kind: 'not-allowed', message }
  if (error instanceof NoPeerReachableError) return { kind: 'no-peer', message }
  // Without a ref it is a field of the body as sent: the asking command names it in its own terms.
  if (error instanceof InvalidEventError && error.ref === undefined) return { kind: 'invalid', message, field: error.field, why: error.why }
  if (error instanceof InvalidEventError) return { kind: 'invalid', message }
  return { kind: 'failed', message }
}

export interface ServedController {
  /** The farm's fingerprint (../local/endpoint.ts `farmFingerprint`). */
  readonly farm: string
  /** Whether the controller's own catch-up met a peer. */
  readonly reachedPeer: () => boolean
  /** Settles when the catch-up ends. */
  readonly ready: Promise<unknown>
}

export function localFarmOf (controller: Controller, { farm, reachedPeer, ready }: ServedController): LocalFarm {
  return {
    peerId: controller.peerId,
    farm,
    // A command's controller leaves with its command: no peer for another to dial.
    addresses: () => [],
    reachedPeer,
    view: () => controller.view(),
    livePeers: () => controller.livePeers(),
    clockSkewOf: (peer) => controller.clockSkewOf(peer),
    logs: async (filter) => controller.logs(filter),
    followLogs: (filter, listener) => controller.followLogs(filter, listener),
    write: async (body, timeoutMs) => controller.write(body, { timeoutMs }),
    refusalOf,
    ready
  }
}
