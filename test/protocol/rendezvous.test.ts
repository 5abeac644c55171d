import { createHash } from 'node:crypto'
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

test('the ranking is by the first 8 bytes of sha256(key, newline, peer) as an unsigned integer: nodes of every release rank alike', (t) => {
  const weight = (key: string, peer: string): bigint => createHash('sha256').update(Buffer.from(`${key}\n${peer}`, 'utf8')).digest().readBigUInt64BE(0)
  // Peer ids as libp2p writes them, and a key with a job id that is not ASCII-only.
  const ids = [...peers, '12D3KooWGzYp1ozBmtbvB2tUvQqFsRLwhj5NFuPAhCSGJv9mUwRq', '12D3KooWPjceQrSwdWXPyLLeABRXmuqt69Rg3sBYbU1Nft9HyQ6X', 'ünïcödé']
  for (let block = 0; block < 200; block++) {
    const key = blockKey(`jöb-${block % 7}`, block, 1 + (block % 3))
    const expected = [...ids].sort((a, b) => {
      const [wa, wb] = [weight(key, a), weight(key, b)]
      return wa !== wb ? (wa > wb ? -1 : 1) : (a < b ? -1 : 1)
    })
    t.deepEqual(rankPeers(key, ids), expected, key)
  }
})
