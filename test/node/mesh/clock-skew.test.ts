import test from 'ava'
import { ClockSkew, describeSkew } from '../../../src/node/mesh/clock-skew.js'
import { CLOCK_SKEW_WARN_MS } from '../../../src/node/mesh/ephemeral.js'

test('a peer whose clock is off is warned about once in a while, and shown while it stays off', (t) => {
  const clocks = new ClockSkew()
  t.false(clocks.observe('a', 50, 0), 'network delay is no skew')
  t.is(clocks.skewOf('a'), null)
  t.true(clocks.observe('b', 5 * 60_000, 0))
  t.false(clocks.observe('b', 5 * 60_000, 500), 'not warned again at every heartbeat')
  t.is(clocks.skewOf('b'), 5 * 60_000)
  t.true(clocks.observe('b', 5 * 60_000, 11 * 60_000), 'warned again after a while')
  t.false(clocks.observe('b', 0, 11 * 60_000 + 500))
  t.is(clocks.skewOf('b'), null, 'a clock put right is no longer shown')
  t.true(clocks.observe('c', -(CLOCK_SKEW_WARN_MS + 1), 0))
  clocks.prune(20 * 60_000, 60_000)
  t.is(clocks.skewOf('c'), null, 'silent peers are forgotten')
})

test('skews read as a person would say them', (t) => {
  t.is(describeSkew(252_000), '4m12s behind')
  t.is(describeSkew(-35_000), '35s ahead')
})
