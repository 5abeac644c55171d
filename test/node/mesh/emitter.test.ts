/**
 * The mesh's emitter: a listener's failure, thrown or as a rejected promise, is logged
 * with the event's name and costs the other listeners nothing. A rejection left loose
 * would be an unhandled rejection, which ava reports as a failure of this test.
 */
import test from 'ava'
import { createLogger, type LogRecord } from '../../../src/node/log.js'
import { Emitter } from '../../../src/node/mesh/emitter.js'

test('a listener that throws or rejects is logged; the others still hear every event', async (t) => {
  const records: LogRecord[] = []
  const emitter = new Emitter<{ beat: number }>(createLogger('mesh', { sink: (record) => records.push(record) }))
  const heard: number[] = []
  emitter.on('beat', () => { throw new Error('thrown by a listener') })
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the mistake the emitter must survive
  emitter.on('beat', async () => {
    await Promise.resolve()
    throw new Error('rejected by a listener')
  })
  emitter.on('beat', (value) => heard.push(value))
  emitter.emit('beat', 1)
  emitter.emit('beat', 2)
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(heard, [1, 2])
  const failures = records.filter((record) => record.level === 'error' && record.msg === 'event listener failed')
  t.is(failures.length, 4)
  t.true(failures.every((record) => record.fields.event === 'beat'))
  t.is(failures.filter((record) => (record.fields.error as Error).message === 'rejected by a listener').length, 2)
})
