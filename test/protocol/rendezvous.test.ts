import test from 'ava'
import { blockKey, rankPeers } from '../../src/protocol/rendezvous.js'

const peers = Array.from({ length: 10 }, (_, index) => `peer-${index}`)

test('every peer computes the same ranking, whatever order it lists the candidates in', (t) => {
  const key = blockKey('job', 3, 1)
  t.deepEqual(rankPeers(key, [...peers].reverse()), rankPeers(key, peers))
})

test('removing a candidate does not reorder the others', (t) => {
  const key = blockKey('job', 3, 1)
  const ranked = rankPeers(key, peers)
  const top = ranked[0] ?? ''
  t.deepEqual(rankPeers(key, peers.filter((peer) => peer !== top)), ranked.slice(1))
})

test('blocks spread across peers instead of piling onto one', (t) => {
  const wins = new Map<string, number>()
  for (let block = 0; block < 1000; block++) {
    const [top = ''] = rankPeers(blockKey('job', block, 1), peers)
    wins.set(top, (wins.get(top) ?? 0) + 1)
  }
  t.is(wins.size, peers.length)
  for (const count of wins.values()) t.true(count > 50 && count < 150, `a peer won ${count} of 1000 blocks`)
})
