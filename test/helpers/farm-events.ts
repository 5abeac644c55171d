/**
 * Test authors and realistic events: deterministic Ed25519 keys (from fixed seeds) and
 * a small World in which each author keeps its own replica, writes signed events in its
 * feed, and sees others' events when the test syncs it, as peers on a mesh would.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { FarmAuthority } from '../../src/protocol/authority.js'
import type { DraftBody, JobFields, JobSpec, VerifiedEvent } from '../../src/protocol/events.js'
import { Replica } from '../../src/protocol/replica.js'
import { signerFromKey, type Signer } from '../../src/protocol/signing.js'

/** Deterministic signers: the same index gives the same peer id in every run. */
export async function makeSigners (count: number): Promise<Signer[]> {
  return Promise.all(Array.from({ length: count }, async (_, index) => {
    // The first 255 as they always were (fills of 1 to 255), so recorded traces replay; past them, the index in the first bytes.
    const seed = new Uint8Array(32).fill((index % 255) + 1)
    if (index >= 255) new DataView(seed.buffer).setUint32(0, index)
    return signerFromKey(await generateKeyPairFromSeed('Ed25519', seed))
  }))
}

/** A job's fields with sensible defaults; override any field. Its id comes from its submit event. */
export function jobSpec (overrides: Partial<JobFields> = {}): JobFields {
  return {
    name: 'shot010_beauty',
    project: 'feature',
    user: 'andrew',
    software: 'blender',
    scenePath: '/projects/feature/shot010.blend',
    targetPath: '/renders/feature/shot010',
    frameStart: 1,
    frameEnd: 8,
    blockSize: 2,
    layer: null,
    camera: null,
    imageName: null,
    imageFormat: null,
    commandTemplate: null,
    priority: 50,
    classification: 'A',
    maxRetries: 2,
    enabled: true,
    ...overrides
  }
}

export class World {
  readonly replicas: Replica[]
  /** Every event written, in writing order. */
  readonly events: VerifiedEvent[] = []
  private clock = 1_700_000_000_000

  /** `authority` names the farm's founder, by default author 0. */
  constructor (readonly signers: readonly Signer[], authority: FarmAuthority = { founder: signers[0]?.author ?? null }) {
    this.replicas = signers.map(() => new Replica({ authority }))
  }

  /** Author `who` submits a job; returns it with the id its submit event gave it. */
  submit (who: number, overrides: Partial<JobFields> = {}): JobSpec {
    const { body } = this.write(who, { type: 'job.submitted', job: jobSpec(overrides) }).event
    if (body.type !== 'job.submitted') throw new Error('a submission wrote another kind of event')
    return body.job
  }

  /** Author `who` writes `body` into its feed. */
  write (who: number, body: DraftBody): VerifiedEvent {
    const replica = this.replicas[who]
    const signer = this.signers[who]
    if (replica === undefined || signer === undefined) throw new RangeError(`no author ${who}`)
    this.clock += 1000
    const verified = replica.draft(signer, this.clock, body)
    replica.commit(verified)
    this.events.push(verified)
    return verified
  }

  /** Author `who` takes in every event it lacks, feed by feed, as a sync would. */
  sync (who: number): void {
    const replica = this.replicas[who]
    if (replica === undefined) throw new RangeError(`no author ${who}`)
    for (const verified of this.events) {
      const have = replica.head(verified.event.author)?.seq ?? 0
      if (verified.event.seq === have + 1) replica.commit(verified)
    }
  }

  author (who: number): string {
    const signer = this.signers[who]
    if (signer === undefined) throw new RangeError(`no author ${who}`)
    return signer.author
  }
}
