/**
 * The deterministic simulation in CI, node and link faults: crashes (some for good, some
 * graceful), pauses (SIGSTOP), partitions, and everything at once. (Network profiles:
 * sim.test.ts.)
 */
import test from 'ava'
import { checkProfile, SEEDS_PER_PROFILE } from './matrix.js'
import { profileNamed } from './profiles.js'

for (const name of ['crashes', 'pauses', 'partitions', 'chaos']) {
  // Serial: each profile is a long synchronous loop; one at a time, each reports as it ends.
  test.serial(`every invariant holds over ${SEEDS_PER_PROFILE} seeds: ${name}`, async (t) => {
    await checkProfile(t, profileNamed(name))
  })
}
