/**
 * `npm run bench`: every benchmark, one table each. Figures are printed, never asserted.
 * `npm run bench -- --small` skips the largest data sets; `-- --export-full` exports the
 * 100,000-job farm the export's target is set at (its store takes long to build).
 */
import { runCommandsBench } from './commands.js'
import { exportBenchJobs, runExportBench } from './export.js'
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
await runCommandsBench()
await runTakeoverBench({ trials: small ? 5 : 20 })
await runExportBench({ jobs: exportBenchJobs(process.argv) })
