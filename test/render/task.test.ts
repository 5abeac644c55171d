import test from 'ava'
import { formatFrameRun, frameRuns, taskFrames, validateTask } from '../../src/render/task.js'
import { makeTask } from '../fixtures/render/helpers.js'

test('frames of a range, a stepped range and a list', (t) => {
  t.deepEqual(taskFrames({ start: 1, end: 4 }), [1, 2, 3, 4])
  t.deepEqual(taskFrames({ start: -2, end: 6, step: 4 }), [-2, 2, 6])
  t.deepEqual(taskFrames([5, 1, 3, 3]), [1, 3, 5])
})

test('bad frame specs are refused with a reason', (t) => {
  t.throws(() => taskFrames({ start: 5, end: 1 }), { name: 'InvalidTaskError', message: /empty/ })
  t.throws(() => taskFrames({ start: 1, end: 5, step: 0 }), { name: 'InvalidTaskError', message: /step/ })
  t.throws(() => taskFrames([]), { name: 'InvalidTaskError', message: /no frames/ })
  t.throws(() => taskFrames([1.5]), { name: 'InvalidTaskError' })
  t.throws(() => taskFrames({ start: 0, end: 20_000_000 }), { name: 'InvalidTaskError' })
})

test('frames split into the fewest greedy runs, and runs print as farm people write them', (t) => {
  t.deepEqual(frameRuns([1, 2, 3, 7, 9]), [{ start: 1, end: 3, step: 1 }, { start: 7, end: 9, step: 2 }])
  t.deepEqual(frameRuns([4]), [{ start: 4, end: 4, step: 1 }])
  t.deepEqual(frameRuns([1, 2, 3, 7, 9]).map(formatFrameRun), ['1-3', '7-9x2'])
  t.is(formatFrameRun({ start: 4, end: 4, step: 1 }), '4')
})

test('names that become paths must be safe, limits positive or -1', (t) => {
  const base = makeTask({ software: 'blender', scenePath: '/s.blend', targetDir: '/t' })
  t.notThrows(() => { validateTask(base) })
  t.throws(() => { validateTask({ ...base, jobId: '../etc' }) }, { name: 'InvalidTaskError', message: /job id/ })
  t.throws(() => { validateTask({ ...base, imageName: 'a/b' }) }, { name: 'InvalidTaskError', message: /image name/ })
  t.throws(() => { validateTask({ ...base, imageFormat: 'png;rm' }) }, { name: 'InvalidTaskError', message: /image format/ })
  t.throws(() => { validateTask({ ...base, limits: { threads: 0, memoryMb: -1 } }) }, { name: 'InvalidTaskError', message: /thread limit/ })
  t.throws(() => { validateTask({ ...base, epoch: -1 }) }, { name: 'InvalidTaskError', message: /epoch/ })
  t.throws(() => { validateTask({ ...base, scenePath: '' }) }, { name: 'InvalidTaskError', message: /scene path/ })
})
