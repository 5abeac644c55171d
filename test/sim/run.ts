/**
 * The simulator's command line: `npm run sim -- --seeds N [--seed S] [--nodes K]
 * [--max-nodes K] [--profile NAME] [--verbose]`. Runs seeds S, S+1, ... S+N-1 (profiles
 * cycle with the seed unless one is named), prints every failing seed with the command
 * that replays it, and a summary with figures. Exits 1 if any seed failed.
 */
import { parseArgs } from 'node:util'
import { summarize } from './figures.js'
import { profileNamed } from './profiles.js'
import { runSeed, type RunResult } from './sim.js'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    nodes: { type: 'string' },
    'max-nodes': { type: 'string' },
    profile: { type: 'string' },
    verbose: { type: 'boolean', default: false }
  }
})

function wholeNumber (name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`--${name} must be a whole number, not ${text}`)
  return value
}

const seeds = wholeNumber('seeds', values.seeds) ?? 100
const first = wholeNumber('seed', values.seed) ?? 1
const nodes = wholeNumber('nodes', values.nodes)
const maxNodes = wholeNumber('max-nodes', values['max-nodes'])
const profile = values.profile === undefined ? undefined : profileNamed(values.profile)

const started = performance.now()
const results: RunResult[] = []
for (let seed = first; seed < first + seeds; seed++) {
  const result = await runSeed({ seed, ...(profile === undefined ? {} : { profile }), ...(nodes === undefined ? {} : { nodes }), ...(maxNodes === undefined ? {} : { maxNodes }) })
  results.push(result)
  if (result.violations.length > 0) {
    console.log(`FAIL seed ${seed} (${result.profile}, ${result.nodes} nodes, trace ${result.traceHash.slice(0, 16)}); replay: npm run sim -- --seeds 1 --seed ${seed} --profile ${result.profile} --nodes ${result.nodes}`)
    for (const violation of result.violations) console.log(`  ${violation}`)
  } else if (values.verbose) {
    console.log(`ok seed ${seed} (${result.profile}, ${result.nodes} nodes, ${(result.figures.virtualMs / 1000).toFixed(1)} s virtual, trace ${result.traceHash.slice(0, 16)})`)
  }
}
for (const line of summarize(results)) console.log(line)
console.log(`wall time: ${((performance.now() - started) / 1000).toFixed(1)} s`)
process.exitCode = results.some((result) => result.violations.length > 0) ? 1 : 0
