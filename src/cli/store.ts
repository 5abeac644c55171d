/**
 * `cr store check` and `cr store repair`: a node's store as its sysadmin sees it. Both
 * run with the node stopped; a damaged store exits 3 (see exit.ts), whichever met it.
 */
import type { Command } from 'commander'
import { assertDataDir, loadIdentity } from '../node/identity.js'
import { checkStore } from '../node/store/check.js'
import { storeOpenFailure } from '../node/store/errors.js'
import { EventStore, storeDirOf } from '../node/store/event-store.js'
import { repairStore, type FeedRepair } from '../node/store/repair.js'
import { signerFromKey } from '../protocol/signing.js'
import { dataDirOption } from './connection.js'
import { EXIT } from './exit.js'

async function nodeSigner (dataDir: string) {
  await assertDataDir(dataDir)
  return signerFromKey(await loadIdentity(dataDir, { create: false }))
}

function feedLine (feed: FeedRepair, self: string): string {
  const who = feed.author === self ? `${feed.author} (this node)` : feed.author
  const lost = feed.dropped + feed.missing
  return `  ${who}: kept ${feed.kept}${lost === 0 ? '' : `, lost ${lost} (${feed.dropped} that did not verify, ${feed.missing} unreadable)`}`
}

export function addStoreCommands (program: Command): void {
  const store = program.command('store').description('inspect and repair a node\'s event store (with the node stopped)')
  store.command('check')
    .description('verify every event on disk and compare a full replay with the materialized state; exit 3 if the store is damaged')
    .argument('<data-dir>', 'the node\'s data directory')
    .option('--json', 'print the result as JSON')
    .action(async (dataDir: string, options: { json?: boolean }) => {
      const signer = await nodeSigner(dataDir)
      const opened = await EventStore.open(storeDirOf(dataDir), signer).catch((error: unknown) => { throw storeOpenFailure(storeDirOf(dataDir), error) })
      try {
        const result = await checkStore(opened)
        if (options.json === true) {
          console.log(JSON.stringify(result))
        } else {
          console.log(`${result.events} events from ${result.authors} authors`)
          console.log(`materialized state ${result.materializedHash}`)
          console.log(`full replay        ${result.replayedHash}`)
          console.log(result.consistent ? 'consistent' : 'INCONSISTENT: the materialized state differs from a replay')
        }
        if (!result.consistent) process.exitCode = EXIT.storeDamaged
      } finally {
        await opened.close()
      }
    })
  store.command('repair')
    .description('rebuild a damaged store from the events that still verify, keeping the damaged one beside it; the node then recovers the rest from its peers')
    .addOption(dataDirOption('the node\'s data directory'))
    .option('--json', 'print the result as JSON')
    .action(async (options: { dataDir: string, json?: boolean }) => {
      const signer = await nodeSigner(options.dataDir)
      const result = await repairStore(options.dataDir, signer, Date.now())
      if (options.json === true) {
        console.log(JSON.stringify(result))
        return
      }
      if (result.kind === 'sound') {
        console.log(`the store in ${options.dataDir} is sound (${result.events} events); nothing to repair`)
        return
      }
      const kept = result.feeds.reduce((sum, feed) => sum + feed.kept, 0)
      const lost = result.feeds.reduce((sum, feed) => sum + feed.dropped + feed.missing, 0)
      console.log(`rebuilt the store in ${options.dataDir}: kept ${kept} events of ${result.feeds.length} authors, lost ${lost}`)
      for (const feed of result.feeds) console.log(feedLine(feed, signer.author))
      console.log(`the damaged store is kept at ${result.damagedKeptAt}; remove it once the node runs well`)
      console.log('at its next start the node first recovers the farm\'s log and its own feed from its peers')
    })
}
