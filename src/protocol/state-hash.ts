/**
 * One hash for a peer's whole farm state. Two peers holding the same set of events hold
 * equal records (records.ts), so equal hashes mean converged replicas.
 */
import { encodeCanonical, sha256, toHex } from './encoding.js'
import type { FarmRecords } from './records.js'

export function stateHash (records: FarmRecords): string {
  return toHex(sha256(encodeCanonical(records)))
}
