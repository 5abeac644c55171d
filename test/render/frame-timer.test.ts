import test from 'ava'
import { FrameTimer } from '../../src/render/frame-timer.js'

test('frames without printed times take the time since the previous one', (t) => {
  const timer = new FrameTimer([1, 2, 3])
  timer.begin([1, 2, 3], 1000)
  t.deepEqual(timer.frameDone(1400), { frame: 1, ms: 400 })
  t.deepEqual(timer.frameDone(1700, 2), { frame: 2, ms: 300 })
  t.deepEqual(timer.frameDone(1900, undefined, 5000), { frame: 3, ms: 5000 })
  t.deepEqual(timer.results(), [{ frame: 1, ms: 400 }, { frame: 2, ms: 300 }, { frame: 3, ms: 5000 }])
})

test('a frame reported twice counts once, unknown frames not at all, and a printed time amends the last', (t) => {
  const timer = new FrameTimer([1, 2])
  timer.begin([1, 2], 0)
  t.truthy(timer.frameDone(10, 1))
  t.is(timer.frameDone(20, 1), undefined)
  t.is(timer.frameDone(30, 99), undefined)
  timer.amendLast(1500)
  t.is(timer.doneCount, 1)
  t.deepEqual(timer.results(), [{ frame: 1, ms: 1500 }])
})

test('frames a process never reported share the rest of its run; percent counts done frames', (t) => {
  const timer = new FrameTimer([1, 2, 3, 4])
  timer.begin([1, 2], 0)
  t.is(timer.percent(0.5), 12.5)
  t.deepEqual(timer.end(1000), [{ frame: 1, ms: 500 }, { frame: 2, ms: 500 }])
  timer.begin([3, 4], 1000)
  timer.frameDone(1100)
  t.deepEqual(timer.end(1500), [{ frame: 4, ms: 400 }])
  t.is(timer.percent(0), 100)
})
