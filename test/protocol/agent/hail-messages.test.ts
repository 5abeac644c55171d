import test from 'ava'
import { hailMessagesOf, receivedHail } from '../../../src/protocol/agent/hail-messages.js'

const lease = { jobId: '3f1c9a52-7b1e-4c8e-9d2a-5e6f7a8b9c0d', block: 2, epoch: 3 }
const held = (author: string): number => (author === 'holder' ? 7 : 0)

test('a hail command becomes the messages it sends, and each message the input it stands for', (t) => {
  const [asked] = hailMessagesOf({ kind: 'send-hail', to: 'holder', nonce: 5, lease }, 40)
  t.deepEqual(asked, { to: 'holder', message: { type: 'hail', nonce: 5, lease } })
  t.deepEqual(receivedHail('hailer', 100, asked?.message ?? { type: 'hail', nonce: 0, lease }, held), {
    input: { kind: 'hail-received', from: 'hailer', nowMs: 100, nonce: 5, lease },
    feed: null
  })
  const [answered] = hailMessagesOf({ kind: 'answer-hail', to: 'hailer', nonce: 5, rendering: null }, 9)
  t.deepEqual(answered?.message, { type: 'hail-answer', nonce: 5, answer: { rendering: null, feedSeq: 9 } })
  const received = receivedHail('holder', 120, answered?.message ?? { type: 'hail', nonce: 0, lease }, held)
  t.deepEqual(received.input, { kind: 'hail-answered', from: 'holder', nowMs: 120, nonce: 5, answer: { rendering: null, feedSeq: 9 }, heldSeq: 7 })
  t.deepEqual(received.feed, { author: 'holder', feedSeq: 9 }, 'the holder says its feed is longer than what we hold: pull first')
})

test('an indirect hail goes to every helper, and its answer speaks of the target\'s feed', (t) => {
  const sent = hailMessagesOf({ kind: 'send-indirect-hail', via: ['b', 'c'], target: 'holder', nonce: 8, lease }, 0)
  t.deepEqual(sent.map(({ to }) => to), ['b', 'c'])
  const answer = { rendering: lease, feedSeq: 7 }
  const [relayed] = hailMessagesOf({ kind: 'send-indirect-answer', to: 'a', target: 'holder', nonce: 8, answer }, 0)
  const received = receivedHail('b', 130, relayed?.message ?? { type: 'hail', nonce: 0, lease }, held)
  t.like(received.input, { kind: 'indirect-hail-answered', from: 'b', target: 'holder', heldSeq: 7 })
  t.deepEqual(received.feed, { author: 'holder', feedSeq: 7 })
})
