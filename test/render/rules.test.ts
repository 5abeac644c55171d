import test from 'ava'
import { adapterFor } from '../../src/render/adapters/index.js'
import { frameOfFileName, matchLine, padFrame, parseDuration } from '../../src/render/adapters/rules.js'
import type { LineEvent } from '../../src/render/adapters/types.js'
import type { Software } from '../../src/protocol/vocabulary.js'

const read = (software: Software, line: string): LineEvent | undefined => matchLine(adapterFor(software).rules, line)
const error = (reason: string): LineEvent => ({ kind: 'error', reason } as LineEvent)

test('Maya: license and usage errors are fatal, `// Error:` is a warning, frames and progress are read', (t) => {
  t.deepEqual(read('maya-software', 'FLEXlm error: -15,570. System Error: 115'), error('license'))
  t.deepEqual(read('maya-arnold', 'Maya: License was not obtained'), error('license'))
  t.deepEqual(read('maya-software', 'Usage: Render [options] filename'), error('usage'))
  t.deepEqual(read('maya-mray', '// Error: Unknown renderer: mentalRayX'), error('unknown-renderer'))
  t.deepEqual(read('maya-software', '// Error: file: /s/shot.ma line 12: Cannot find file "tex.png" for file1.'), { kind: 'warning' })
  t.deepEqual(read('maya-software', 'Finished Rendering /r/images/test_12.iff.'), { kind: 'frame-done', frame: 12 })
  t.deepEqual(read('maya-software', 'Percentage of rendering done: 40 (/r/test.iff)'), { kind: 'frame-progress', fraction: 0.4 })
  t.deepEqual(read('maya-mray', 'PHEN 0.3  progr: writing image file /r/test_7.iff (frame 7)'), { kind: 'frame-done', frame: 7 })
  t.deepEqual(read('maya-mray', 'RC   0.0  progr:  55.2%  rendered on host.1'), { kind: 'frame-progress', fraction: 0.552 })
  t.is(read('maya-software', 'Warning: Output image format jpg is lossy'), undefined)
})

test('Maya with Arnold and V-Ray: their failure and frame phrases', (t) => {
  t.deepEqual(read('maya-arnold', '00:00:05  1200MB         | [mtoa] Failed batch render'), error('renderer-error'))
  t.deepEqual(read('maya-arnold', '// Error: Plug-in, "mtoa", was not found on MAYA_PLUG_IN_PATH.'), error('executable-missing'))
  t.deepEqual(read('maya-arnold', '00:00:09   600MB         | render done in 0:03.250'), { kind: 'frame-done', ms: 3250 })
  t.deepEqual(read('maya-arnold', '00:00:04   500MB         |    30% done - 12 rays/pixel'), { kind: 'frame-progress', fraction: 0.3 })
  t.deepEqual(read('maya-vray', 'V-Ray error: Could not create output file'), error('renderer-error'))
  t.deepEqual(read('maya-vray', 'V-Ray: Total frame time 12.5 s'), { kind: 'frame-done', ms: 12_500 })
  t.deepEqual(read('maya-arnold', 'std::bad_alloc'), error('out-of-memory'))
})

test('Nuke: ERROR and Eddy[ERROR] fail the block, "Writing ... took" is a timed frame', (t) => {
  t.deepEqual(read('nuke', 'ERROR: Write1: Cannot write to /renders'), error('renderer-error'))
  t.deepEqual(read('nuke', 'Eddy[ERROR] - Simulation failed'), error('renderer-error'))
  t.deepEqual(read('nuke', 'Writing /tmp/out/comp.0042.exr took 1.25 seconds'), { kind: 'frame-done', frame: 42, ms: 1250 })
  t.deepEqual(read('nuke', 'Nuke: failed to obtain a license'), error('license'))
})

test('Blender: its real lines, from a missing scene to a saved frame and its time', (t) => {
  t.deepEqual(read('blender', "Error: Cannot read file '/tmp/missing.blend': No such file or directory"), error('scene-missing'))
  t.deepEqual(read('blender', "Error: Cannot read file '/tmp/x.blend': Permission denied"), error('scene-unreadable'))
  t.deepEqual(read('blender', "Error: File format is not supported in file '/tmp/bad.blend'"), error('scene-unreadable'))
  t.deepEqual(read('blender', "Error: Format from '-F / --render-format' not known or not compiled in this release."), error('usage'))
  t.deepEqual(read('blender', "Render error (No such file or directory) cannot save: '/nope/a_0001.png'"), error('renderer-error'))
  t.deepEqual(read('blender', 'Error: Build without OpenImageDenoiser'), error('renderer-error'))
  t.deepEqual(read('blender', "Saved: '/tmp/bl/out/img_0001.png'"), { kind: 'frame-done', frame: 1 })
  t.deepEqual(read('blender', ' Time: 00:00.11 (Saving: 00:00.08)'), { kind: 'frame-time', ms: 110 })
  t.deepEqual(read('blender', 'Fra:1 Mem:10.41M (Peak 10.83M) | Time:00:00.02 | Remaining:00:00.01 | Mem:1.25M, Peak:1.25M | Scene, ViewLayer | Sample 1/4'), { kind: 'frame-progress', fraction: 0.25 })
  t.deepEqual(read('blender', 'Traceback (most recent call last):'), { kind: 'warning' })
  t.is(read('blender', 'Fra:1 Mem:9.05M (Peak 10.83M) | Time:00:00.00 | Scene, ViewLayer | Synchronizing object | Cube'), undefined)
})

test('kick and V-Ray standalone: license, scene and error phrases', (t) => {
  t.deepEqual(read('arnold-kick', '00:00:00    60MB WARNING |  rendering with watermarks because of failed authorization'), error('license'))
  t.deepEqual(read('arnold-kick', "00:00:00    50MB ERROR   | [ass] can't open \"/ass/shot.0001.ass\""), error('scene-unreadable'))
  t.deepEqual(read('arnold-kick', '00:00:01    55MB ERROR   | [driver_exr] cannot write'), error('renderer-error'))
  t.deepEqual(read('vray-standalone', '[2024/Jan/3|10:00:00] error: Error loading scene file /v/shot.vrscene'), error('scene-unreadable'))
  t.deepEqual(read('vray-standalone', '[2024/Jan/3|10:00:00] error: Unable to write image'), error('renderer-error'))
  t.deepEqual(read('vray-standalone', '[2024/Jan/3|10:00:09] Total frame time 0h 0m 9.1s (9.1 s)'), { kind: 'frame-done', ms: 9100 })
})

test('frame numbers from file names', (t) => {
  t.is(frameOfFileName('shot_0001.png'), 1)
  t.is(frameOfFileName('shot.0042.exr'), 42)
  t.is(frameOfFileName('beauty/shot.diffuse.0007.exr'), 7)
  t.is(frameOfFileName('C:\\r\\shot_12.iff'), 12)
  t.is(frameOfFileName('shot_-003.png'), -3)
  t.is(frameOfFileName('shot.png'), undefined)
  t.is(frameOfFileName('shot0001.png'), undefined)
})

test('durations and padding', (t) => {
  t.is(parseDuration('00:00.11'), 110)
  t.is(parseDuration('0:01.234'), 1234)
  t.is(parseDuration('1:02:03.5'), 3_723_500)
  t.is(parseDuration('12.5'), 12_500)
  t.is(parseDuration('12.5 s'), 12_500)
  t.is(parseDuration('1h 2m 3.5s'), 3_723_500)
  t.is(parseDuration('1:2:3:4'), undefined)
  t.is(parseDuration('soon'), undefined)
  t.is(padFrame(7, 4), '0007')
  t.is(padFrame(-7, 4), '-007')
  t.is(padFrame(12345, 4), '12345')
})
