/**
 * Mesh settings: defaults for a studio LAN, and refusals that name the field.
 */
import test from 'ava'
import { DEFAULT_KEEP_ALIVE_INTERVAL_MS, DEFAULT_LISTEN, DEFAULT_MDNS_SERVICE_TAG, resolveMeshConfig } from '../../../src/node/mesh/config.js'
import { InvalidMeshConfigError } from '../../../src/node/mesh/errors.js'

test('defaults fill in whatever is left out, nested settings included', (t) => {
  const config = resolveMeshConfig({ mdns: { queryIntervalMs: 500 } })
  t.deepEqual(config.listen, DEFAULT_LISTEN)
  t.deepEqual(config.bootstrapPeers, [])
  t.is(config.mdns.serviceTag, DEFAULT_MDNS_SERVICE_TAG)
  t.is(config.mdns.queryIntervalMs, 500)
  t.true(config.mdns.enabled)
  t.is(config.keepAliveTimeoutMs, 2_500)
  t.true(config.keepAliveTimeoutMs >= 2 * DEFAULT_KEEP_ALIVE_INTERVAL_MS, 'a late beat is not a hung peer')
  t.true(config.sync.batchMaxBytes > 64 * 1024)
})

test('a bad setting is refused with its field named', (t) => {
  const cases: Array<[Parameters<typeof resolveMeshConfig>[0], string]> = [
    [{ bootstrapPeers: ['192.168.1.7:4001'] }, 'bootstrapPeers.0'],
    [{ listen: [] }, 'listen'],
    [{ mdns: { serviceTag: 'constellation' } }, 'mdns.serviceTag'],
    [{ sync: { batchMaxBytes: 1024 } }, 'sync.batchMaxBytes'],
    [{ sync: { windowBatches: 0 } }, 'sync.windowBatches'],
    [{ keepAliveIntervalMs: -5 }, 'keepAliveIntervalMs']
  ]
  for (const [input, field] of cases) {
    const error = t.throws(() => resolveMeshConfig(input), { instanceOf: InvalidMeshConfigError })
    t.is(error.field, field)
  }
})
