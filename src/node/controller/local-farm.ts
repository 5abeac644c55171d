/**
 * A controller as its data directory's local endpoint serves it (../local/endpoint.ts):
 * reads from its copy, writes through its own `write`, judged and confirmed as its own.
 */
import type { LocalFarm } from '../local/endpoint.js'
import type { RefusalKind } from '../local/errors.js'
import { InvalidEventError } from '../../protocol/errors.js'
import type { Controller } from './controller.js'
import { NoPeerReachableError, NotAllowedError } from './errors.js'

export function refusalKindOf (error: unknown): RefusalKind {
  if (error instanceof NotAllowedError) return 'not-allowed'
  if (error instanceof NoPeerReachableError) return 'no-peer'
  if (error instanceof InvalidEventError) return 'invalid'
  return 'failed'
}

export interface ServedController {
  /** The farm's fingerprint (../local/endpoint.ts `farmFingerprint`). */
  readonly farm: string
  /** Whether the controller's own catch-up met a peer. */
  readonly reachedPeer: () => boolean
}

export function localFarmOf (controller: Controller, { farm, reachedPeer }: ServedController): LocalFarm {
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
    refusalKindOf
  }
}
