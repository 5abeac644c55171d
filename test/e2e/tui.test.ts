/**
 * The TUI in a real terminal, end to end: tmux runs `cr tui` against a live farm of three
 * `cr node` processes in the test's network namespace. Keys go in with send-keys, and
 * capture-pane shows what an artist would see: a job submitted through the form reaching
 * DONE, another halted and resumed, a node blocked.
 */
import { copyFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import test from 'ava'
import { loadOrCreateIdentity } from '../../src/node/identity.js'
import { writeProceduralScene } from '../../src/render/index.js'
import { RenderFarm } from '../helpers/render-farm.js'
import { Terminal } from '../tui/terminal.js'

const CR = fileURLToPath(new URL('../../bin/cr.js', import.meta.url))

test('an artist submits, watches, halts, resumes and blocks through cr tui in a real terminal', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  await Promise.all(['render01', 'render02', 'render03'].map(async (name) => farm.startNode(name)))
  // The artist's own machine: its data dir, the studio's swarm key, and the wrangler role (to block a node).
  const dataDir = path.join(farm.dir, 'artist')
  await mkdir(dataDir, { recursive: true })
  await copyFile(farm.swarmKeyFile, path.join(dataDir, 'swarm.key'))
  const artist = peerIdFromPrivateKey(await loadOrCreateIdentity(dataDir)).toString()
  await farm.write({ type: 'role.changed', peer: artist, role: 'wrangler', granted: true })
  const quick = path.join(farm.dir, 'quick.json')
  const slow = path.join(farm.dir, 'slow.json')
  await writeProceduralScene(quick, { width: 16, height: 9, frameDelayMs: 100 })
  await writeProceduralScene(slow, { width: 16, height: 9, frameDelayMs: 400 })

  // `cr` alone, as an artist types it.
  const terminal = await Terminal.start(['env', `CR_DATA_DIR=${dataDir}`, `CR_MDNS_TAG=${farm.mdnsTag}`, 'CR_LISTEN=/ip4/127.0.0.1/tcp/0', process.execPath, CR])
  t.teardown(async () => terminal.stop())
  await terminal.until((pane) => /[34] peers\s+caught up/.test(pane), 'the farm joined')

  const submit = async (name: string, scene: string, frames: number): Promise<void> => {
    await terminal.keys('1', 'n')
    await terminal.until((pane) => pane.includes('Submit a job'), 'the form')
    // name, project, (user as is), software, scene, target, first frame, last frame
    for (const [text, tabs] of [[name, 0], ['e2e', 1], ['procedural', 2], [scene, 1], [path.join(farm.dir, 'frames', name), 1], ['1', 1], [String(frames), 1]] as const) {
      for (let tab = 0; tab < tabs; tab++) await terminal.keys('Tab')
      await terminal.type(text)
    }
    await terminal.keys('Enter')
    await terminal.until((pane) => pane.includes(`submitted ${name}`), `${name} submitted`)
  }

  await submit('tui_quick', quick, 4)
  const done = await terminal.until((pane) => /DONE\s+tui_quick\s+\[#+\]\s+4\/4/.test(pane), 'the job done')
  t.log(`Jobs, one job done:\n${done}`)

  await submit('tui_slow', slow, 60)
  await terminal.until((pane) => /RENDERING\s+tui_slow/.test(pane), 'the second job rendering')
  // The filter leaves it the only row, so the keys act on it.
  await terminal.keys('/')
  await terminal.type('slow')
  await terminal.keys('Enter', 'h')
  await terminal.until((pane) => /HALT\s+tui_slow/.test(pane) && pane.includes('halted job'), 'the job halted')
  await terminal.keys('r')
  const resumed = await terminal.until((pane) => /(RENDERING|QUEUE)\s+tui_slow/.test(pane) && pane.includes('resumed job'), 'the job resumed')
  t.log(`Jobs, resumed:\n${resumed}`)

  await terminal.keys('Enter')
  const detail = await terminal.until((pane) => /BLOCK\s+FRAMES\s+STATUS/.test(pane) && /RENDERING\s+render0/.test(pane), 'the block grid')
  t.log(`Job detail:\n${detail}`)

  await terminal.keys('3')
  await terminal.until((pane) => /render03\s+\S+/.test(pane) && /RENDERING\s+\w{8} #\d+/.test(pane), 'the nodes rendering')
  await terminal.keys('b')
  await terminal.until((pane) => pane.includes('block node render01?'), 'the question')
  await terminal.keys('y')
  const blocked = await terminal.until((pane) => /render01\s+\S+\s+\S+(\s+\S+)?\s+BLOCKED/.test(pane) && pane.includes('blocked node render01'), 'the node blocked')
  t.log(`Nodes, render01 blocked:\n${blocked}`)
  await farm.until((view) => view.nodes.find((node) => node.name === 'render01')?.blocked === true ? true : undefined, 'the block stored on the farm')

  await terminal.keys('q')
  // The alternate screen is left: the shell's screen comes back without the TUI on it.
  const after = await terminal.until((pane) => pane.includes('cr exited with'), 'cr exited')
  t.regex(after, /cr exited with 0/)
  t.false(after.includes('Constellation Render'))
})
