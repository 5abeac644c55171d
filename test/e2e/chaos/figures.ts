/** A chaos run's figures as text: what the CLI prints, and what a failing test shows. */
import type { ChaosReport } from './run-chaos.js'

/** The run's figures, for people (and the issue's closing note). */
export function figures (report: ChaosReport): string {
  const faults = Object.entries(report.faults).filter(([, tally]) => tally.planned > 0)
    .map(([kind, tally]) => `  ${kind.padEnd(16)} ${String(tally.injected).padStart(4)} injected, ${tally.skipped} skipped (node busy)`)
  return [
    '',
    `seed ${report.seed}: ${report.failures.length === 0 ? 'PASSED' : `FAILED (${report.failures.length})`}`,
    `faults injected: ${Object.values(report.faults).reduce((sum, tally) => sum + tally.injected, 0)}`,
    ...faults,
    `rounds ${report.rounds}, jobs ${report.jobs}, frames ${report.framesDelivered}/${report.framesExpected} delivered`,
    `duplicates (frames written twice) ${report.duplicates.length}, blocks finished twice ${report.blocksFinishedTwice.length}`,
    `node crashes ${report.crashes.length}, renderers that outlived a killed node ${report.orphanRenderers}, damaged stores refused ${report.refusedStarts.length}`,
    `peers ${report.peers.length}, state hashes ${new Set(report.peers.map((peer) => peer.stateHash)).size === 1 ? 'all equal' : 'DIFFER'}`,
    `time: chaos ${(report.chaosMs / 1000).toFixed(0)} s, finish after healing ${(report.finishMs / 1000).toFixed(1)} s, total ${(report.elapsedMs / 1000).toFixed(0)} s`,
    ...report.failures.map((failure) => `FAILURE: ${failure}`)
  ].join('\n')
}
