/**
 * The structured logger: records with component and fields, level filtering, child
 * components, and JSON lines that keep errors, bytes and big integers readable.
 */
import { PassThrough } from 'node:stream'
import test from 'ava'
import { createLogger, humanLineSink, jsonLineSink, levelFromEnv, type LogRecord } from '../../src/node/log.js'

test('records carry the component, the message and the fields; lower levels are dropped', (t) => {
  const records: LogRecord[] = []
  const logger = createLogger('mesh', { sink: (record) => records.push(record), level: 'info', now: () => 5 })
  logger.debug('not shown')
  logger.info('started', { peer: 'p1' })
  logger.child('sync').warn('dropped', { reason: 'forged' })
  t.deepEqual(records, [
    { timeMs: 5, level: 'info', component: 'mesh', msg: 'started', fields: { peer: 'p1' } },
    { timeMs: 5, level: 'warn', component: 'mesh:sync', msg: 'dropped', fields: { reason: 'forged' } }
  ])
})

test('CR_LOG_LEVEL picks the level; an unknown value falls back to info', (t) => {
  t.is(levelFromEnv({ CR_LOG_LEVEL: 'DEBUG' }), 'debug')
  t.is(levelFromEnv({ CR_LOG_LEVEL: 'loud' }), 'info')
  t.is(levelFromEnv({}), 'info')
})

test('the JSON line sink writes one parseable object per record', (t) => {
  const stream = new PassThrough()
  const logger = createLogger('mesh', { sink: jsonLineSink(stream), level: 'debug', now: () => 0 })
  logger.error('failed', { error: new TypeError('bad'), bytes: new Uint8Array([1, 255]), big: 10n })
  const line = String(stream.read())
  t.true(line.endsWith('\n'))
  t.deepEqual(JSON.parse(line), {
    error: { name: 'TypeError', message: 'bad' }, bytes: '01ff', big: '10', time: '1970-01-01T00:00:00.000Z', level: 'error', component: 'mesh', msg: 'failed'
  })
})

test('the human line sink writes one readable line per record, for a command\'s stderr', (t) => {
  const stream = new PassThrough()
  const logger = createLogger('cr', { sink: humanLineSink(stream), level: 'info' })
  logger.child('mesh').warn('peer refused', { peer: 'p1', error: new TypeError('bad'), offences: 3 })
  logger.info('caught up')
  t.is(String(stream.read()), 'cr: warning: cr:mesh: peer refused (peer=p1, error={"name":"TypeError","message":"bad"}, offences=3)\ncr: info: cr: caught up\n')
})
