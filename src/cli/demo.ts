/** `cr demo` (and `npm start`): three render nodes on loopback render a sample job. */
import type { Command } from 'commander'
import { runDemo } from '../demo/demo.js'
import { UsageError } from './exit.js'

export function addDemoCommand (program: Command): void {
  program.command('demo')
    .description('run a farm of three nodes on this machine and render a sample job')
    .option('--dir <dir>', 'where the farm and its frames go (default: a new temporary folder)')
    .option('--renderer <name>', 'blender or procedural (default: Blender when installed)')
    .action(async (flags: { dir?: string, renderer?: string }) => {
      if (flags.renderer !== undefined && flags.renderer !== 'blender' && flags.renderer !== 'procedural') {
        throw new UsageError('--renderer', `must be blender or procedural, not ${flags.renderer}`)
      }
      await runDemo({
        print: (line) => { console.log(line) },
        ...(flags.dir === undefined ? {} : { dir: flags.dir }),
        ...(flags.renderer === undefined ? {} : { renderer: flags.renderer })
      })
    })
}
