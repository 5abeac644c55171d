/** `cr demo` (and `npm start`): three render nodes on loopback render a sample job, shown in the TUI on a terminal. */
import type { Command } from 'commander'
import { runDemo, runDemoInTui, type DemoTuiOptions } from '../demo/demo.js'
import { UsageError } from './exit.js'

export function addDemoCommand (program: Command): void {
  program.command('demo')
    .description('run a farm of three nodes on this machine and render a sample job (in the TUI on a terminal)')
    .option('--dir <dir>', 'where the farm and its frames go (default: a new temporary folder)')
    .option('--renderer <name>', 'blender or procedural (default: Blender when installed)')
    .option('--plain', 'print the farm\'s progress line by line instead of opening the TUI (as without a terminal)')
    .action(async (flags: { dir?: string, renderer?: string, plain?: boolean }) => {
      const renderer = rendererOf(flags.renderer)
      const options: DemoTuiOptions = {
        ...(flags.dir === undefined ? {} : { dir: flags.dir }),
        ...(renderer === undefined ? {} : { renderer })
      }
      if (flags.plain !== true && process.stdout.isTTY && process.stdin.isTTY) await runDemoInTui(options)
      else await runDemo({ ...options, print: (line) => { console.log(line) } })
    })
}

function rendererOf (flag: string | undefined): DemoTuiOptions['renderer'] {
  if (flag === undefined || flag === 'blender' || flag === 'procedural') return flag
  throw new UsageError('--renderer', `must be blender or procedural, not ${flag}`)
}
