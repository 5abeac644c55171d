/**
 * A seed is a run: the same seed gives the same trace hash, also when replayed with the
 * node count the runner prints, so a failing seed from CI replays exactly on any machine.
 */
import test from 'ava'
import { profileNamed } from './profiles.js'
import { runSeed } from './sim.js'

test('the same seed replays exactly, as the printed replay command runs it; another seed does not', async (t) => {
  const profile = profileNamed('chaos')
  const first = await runSeed({ seed: 42, profile, maxNodes: 14 })
  const replay = await runSeed({ seed: 42, profile, nodes: first.nodes })
  const other = await runSeed({ seed: 43, profile, maxNodes: 14 })
  t.is(replay.traceHash, first.traceHash)
  t.deepEqual(replay.figures, first.figures)
  t.not(other.traceHash, first.traceHash)
})
