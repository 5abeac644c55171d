/**
 * `npm run bench`: every benchmark, one table each. Figures are printed, never asserted.
 * `npm run bench -- --small` skips the largest data sets.
 */
import { runExportBench } from './export.js'
import { runMeshBench } from './mesh.js'
import { runRenderBench } from './render.js'
import { runSpineBench } from './spine.js'
import { runTakeoverBench } from './takeover.js'
import { runTuiBench } from './tui.js'
import { runViewsBench } from './views.js'

const small = process.argv.includes('--small')
await runSpineBench({ large: !small })
await runViewsBench()
await runRenderBench()
await runMeshBench()
await runTuiBench()
await runTakeoverBench({ trials: small ? 5 : 20 })
// 100k jobs would take minutes to build before the export is even timed: see bench/export.ts.
await runExportBench({ jobs: small ? 2_000 : 10_000 })
