/** The node's render timeout settings: `[render] timeoutPerFrame` (none by default) and `timeoutGrace`, as durations or seconds. */
import test from 'ava'
import { DEFAULT_TIMEOUT_GRACE_S, loadNodeConfig, NodeConfigError, resolveNodeConfig } from '../../src/node/config/node-config.js'

test('no timeout unless the config sets one; the grace has a default', (t) => {
  const { render } = resolveNodeConfig({})
  t.is(render.timeoutPerFrame, undefined)
  t.is(render.timeoutGrace, DEFAULT_TIMEOUT_GRACE_S)
})

test('a duration or a number of seconds; the example config\'s values read as seconds', async (t) => {
  t.like(resolveNodeConfig({ render: { timeoutPerFrame: '1h30m', timeoutGrace: 5 } }).render, { timeoutPerFrame: 5400, timeoutGrace: 5 })
  t.like((await loadNodeConfig('docs/node.example.toml')).render, { timeoutPerFrame: 7200, timeoutGrace: 60 })
})

test('a bad timeout is refused naming the key', (t) => {
  for (const [value, message] of [
    ['0s', /render\.timeoutPerFrame: must be a duration from 1s to 7d, such as "90s", "10m" or "1h30m"; got "0s"/],
    ['8d', /render\.timeoutPerFrame: must be a duration from 1s to 7d/],
    ['soon', /render\.timeoutPerFrame: must be a duration from 1s to 7d.*got "soon"/],
    [true, /render\.timeoutPerFrame: must be a duration such as "90s"/]
  ] as const) {
    const error = t.throws(() => resolveNodeConfig({ render: { timeoutPerFrame: value } }), { instanceOf: NodeConfigError })
    t.regex(error.message, message)
  }
})
