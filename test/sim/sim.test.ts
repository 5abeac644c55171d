/**
 * The deterministic simulation in CI, network profiles: a clean LAN, renderer failures,
 * lost and duplicated messages, and delays that must not kill a holder that answers hail.
 * (Crashes, pauses, partitions and all at once: sim-faults.test.ts.)
 */
import test from 'ava'
import { checkProfile, SEEDS_PER_PROFILE } from './matrix.js'
import { profileNamed } from './profiles.js'

for (const name of ['clean', 'failures', 'lossy', 'delays']) {
  // Serial: each profile is a long synchronous loop; one at a time, each reports as it ends.
  test.serial(`every invariant holds over ${SEEDS_PER_PROFILE} seeds: ${name}`, async (t) => {
    await checkProfile(t, profileNamed(name))
  })
}
