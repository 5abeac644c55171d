/**
 * `npm run chaos -- --minutes 60 --seed N [--faults kill,link-cut,...] [--nodes 5]`: a long
 * chaos run (see run-chaos.ts). Prints the timeline as it goes, then the seed to replay and
 * the figures: faults by kind, frames, duplicates, time. Exits 1 when the run broke a promise.
 * Runs inside the private namespace (package.json wraps it in scripts/in-netns.sh), as root.
 */
import { randomInt } from 'node:crypto'
import { parseArgs } from 'node:util'
import { figures } from './figures.js'
import { DEFAULT_CHAOS, runChaos } from './run-chaos.js'
import { FAULT_KINDS, parseFaultKinds } from './faults.js'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string' },
    faults: { type: 'string', default: FAULT_KINDS.join(',') },
    nodes: { type: 'string', default: String(DEFAULT_CHAOS.nodes) },
    'mean-gap-seconds': { type: 'string', default: String(DEFAULT_CHAOS.meanFaultGapMs / 1000) },
    'orphans-allowed': { type: 'boolean', default: false }
  }
})

const seed = values.seed === undefined ? randomInt(2 ** 31) : Number(values.seed)
console.log(`chaos seed ${seed} (replay: npm run chaos -- --seed ${seed} --minutes ${values.minutes} --faults ${values.faults})`)
const report = await runChaos({
  ...DEFAULT_CHAOS,
  seed,
  chaosMs: Number(values.minutes) * 60_000,
  faults: parseFaultKinds(values.faults),
  nodes: Number(values.nodes),
  meanFaultGapMs: Number(values['mean-gap-seconds']) * 1000,
  renderersDieWithNode: !values['orphans-allowed'],
  onLine: (line) => { console.log(line) }
})
console.log(figures(report))
process.exitCode = report.failures.length === 0 ? 0 : 1
