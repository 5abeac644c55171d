/**
 * A hung peer (SIGSTOP: its sockets stay open, it answers nothing) is dropped by the others
 * through keep-alive, who keep writing; once it resumes it is found again and catches up.
 */
import test from 'ava'
import { eventCount } from '../../../src/protocol/version-vector.js'
import { converged, fullyConnected, MeshTestbed } from '../../helpers/mesh-testbed.js'

let bed: MeshTestbed | undefined

test.after.always(async () => {
  await bed?.destroy()
})

test('a hung peer is dropped, and rejoins and catches up when it resumes', async (t) => {
  bed = await MeshTestbed.create()
  const [a, b, hung] = await Promise.all([bed.start('a'), bed.start('b'), bed.start('hung')])
  await Promise.all([a, b, hung].map(async (peer) => peer.request('write', { count: 5 })))
  const before = await converged([a, b, hung], 15)
  await fullyConnected([a, b, hung])

  const stoppedAt = new Map([[a, a.news.length], [b, b.news.length]])
  hung.kill('SIGSTOP')
  for (const peer of [a, b]) {
    await peer.nextEvent((news) => peer.news.indexOf(news) >= (stoppedAt.get(peer) ?? 0) && news.event === 'disconnected' && news.peer === hung.id,
      `${peer.label} to drop the hung peer`)
  }
  await Promise.all([a.request('write', { count: 20 }), b.request('write', { count: 20 })])
  await converged([a, b], eventCount(before.vv) + 40)

  hung.kill('SIGCONT')
  const after = await converged([a, b, hung], eventCount(before.vv) + 40)
  t.is(after.vv[a.id], (before.vv[a.id] ?? 0) + 20)
  await fullyConnected([a, b, hung])
  await Promise.all([a, b, hung].map(async (peer) => peer.stop()))
})
