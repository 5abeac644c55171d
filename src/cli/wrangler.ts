/**
 * `cr wrangler add|remove|list`: who may steer every job and every node. The farm's
 * founder (named in the swarm key file by `cr key generate`) is a wrangler for good and
 * may grant the role; so may any wrangler. Everyone else is an artist: they submit jobs
 * and steer their own. `cr whoami` prints this machine's identity, to be granted.
 */
import type { Command } from 'commander'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadIdentity } from '../node/identity.js'
import { findNode } from '../node/controller/resolve.js'
import type { FarmView } from '../protocol/view.js'
import { peerIdSchema } from '../protocol/schemas.js'
import { dataDirOption, inSession, withConnectionOptions, type ConnectionOptions } from './connection.js'
import { UsageError } from './exit.js'
import { printable, tableWriter } from './format.js'
import { nodeName } from './nodes.js'

/** A peer id as typed, or the peer id of the node so named. */
function peerOf (view: FarmView, ref: string): string {
  if (peerIdSchema.safeParse(ref).success) return ref
  try {
    return findNode(view, ref).id
  } catch (error) {
    throw new UsageError('<peer-or-name>', `${(error as Error).message}; an artist's machine has no node name: give its peer id (cr whoami prints it)`)
  }
}

async function changeRole (options: ConnectionOptions, ref: string, granted: boolean): Promise<void> {
  const peer = await inSession(options, 'write', async ({ controller, write }) => {
    const view = controller.view()
    const target = peerOf(view, ref)
    const changed = granted !== view.wranglers.includes(target)
    if (changed) await write({ type: 'role.changed', peer: target, role: 'wrangler', granted })
    return { target, changed, name: nodeName(view, target) }
  })
  const what = granted ? 'is a wrangler' : 'is no longer a wrangler'
  const name = printable(peer.name)
  console.log(peer.changed ? `${name} (${peer.target}) ${what}` : `${name} (${peer.target}) already ${granted ? 'is a wrangler' : 'is not a wrangler'}; nothing written`)
}

export function addWranglerCommands (program: Command): void {
  const wrangler = program.command('wrangler').description('wranglers may steer every job and node; others steer only their own jobs')
  withConnectionOptions(wrangler.command('add'))
    .description('grant the wrangler role (only the founder or a wrangler may)')
    .argument('<peer-or-name>', 'a peer id (cr whoami) or a node name')
    .action(async (ref: string, options: ConnectionOptions) => { await changeRole(options, ref, true) })
  withConnectionOptions(wrangler.command('remove'))
    .description('revoke the wrangler role; what the wrangler did until now stands')
    .argument('<peer-or-name>', 'a peer id or a node name')
    .action(async (ref: string, options: ConnectionOptions) => { await changeRole(options, ref, false) })
  withConnectionOptions(wrangler.command('list'))
    .description('the founder and every wrangler now')
    .option('--json', 'print them as JSON')
    .action(async (options: ConnectionOptions & { readonly json?: boolean }) => {
      const rows = await inSession(options, 'read', ({ controller }) => {
        const view = controller.view()
        return view.wranglers.map((peer) => ({ peer, name: nodeName(view, peer), founder: peer === view.founder }))
      })
      if (options.json === true) {
        console.log(JSON.stringify(rows))
        return
      }
      if (rows.length === 0) console.log('no wranglers: this farm\'s swarm key names no founder (cr key generate names one)')
      else console.log((await tableWriter())(['PEER', 'NAME', 'ROLE'], rows.map((row) => [row.peer, row.name, row.founder ? 'founder' : 'wrangler'])))
    })
}

export function addWhoamiCommand (program: Command): void {
  program.command('whoami')
    .description('print this machine\'s peer id (its identity in the log), creating none')
    .addOption(dataDirOption())
    .action(async (options: { readonly dataDir: string }) => {
      const key = await loadIdentity(options.dataDir, { create: false })
      console.log(peerIdFromPrivateKey(key).toString())
    })
}
