/**
 * The CI matrix: for each fault profile, seeds on farms of 10 to 14 nodes and one at full
 * size (50 nodes), every run checked against the invariants. Split over two test files so
 * ava runs them on both cores, within about a minute on two. More seeds (the nightly
 * thousand): `npm run sim -- --seeds N`.
 */
import type { ExecutionContext } from 'ava'
import { summarize } from './figures.js'
import type { FaultProfile } from './profiles.js'
import { runSeed, type RunResult } from './sim.js'

/** Seeds per profile in CI, and the largest farm they draw; a few seeds run at full size. */
export const SEEDS_PER_PROFILE = 70
const CI_MAX_NODES = 14
const FULL_SIZE_SEEDS = 1
const FULL_SIZE_NODES = 50

function failures (results: readonly RunResult[]): string[] {
  return results.filter((result) => result.violations.length > 0).map((result) =>
    `seed ${result.seed} (${result.profile}, ${result.nodes} nodes): ${result.violations.join('; ')}\n  replay: npm run sim -- --seeds 1 --seed ${result.seed} --profile ${result.profile} --nodes ${result.nodes}`)
}

/** Runs the profile's seeds; fails with every failing seed and how to replay it. */
export async function checkProfile (t: ExecutionContext, profile: FaultProfile): Promise<void> {
  const results: RunResult[] = []
  for (let seed = 1; seed <= SEEDS_PER_PROFILE; seed++) results.push(await runSeed({ seed, profile, maxNodes: CI_MAX_NODES }))
  for (let seed = 1; seed <= FULL_SIZE_SEEDS; seed++) results.push(await runSeed({ seed: 10_000 + seed, profile, nodes: FULL_SIZE_NODES }))
  t.deepEqual(failures(results), [])
  t.log(summarize(results).join('\n'))
}
