import { chmod, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import { findExecutable, localHost } from '../../src/render/discovery.js'
import type { DiscoveryHost } from '../../src/render/discovery.js'
import { tempDir } from '../fixtures/render/helpers.js'

/** A staged machine: the files that exist, and the folders that list them. */
function host(platform: NodeJS.Platform, files: string[], env: Record<string, string> = {}): DiscoveryHost {
  const paths = platform === 'win32' ? path.win32 : path.posix
  const present = new Set(files)
  return {
    platform,
    env,
    execPath: '/usr/bin/node',
    isExecutableFile: (file) => Promise.resolve(present.has(file)),
    listDir: (dir) => Promise.resolve([...new Set(files.filter((f) => paths.dirname(f).startsWith(dir + paths.sep) || paths.dirname(f) === dir)
      .map((f) => paths.relative(dir, f).split(paths.sep)[0] as string))])
  }
}

test('Windows: the newest Maya under Program Files, as in the seed', async (t) => {
  const machine = host('win32', [
    'C:\\Program Files\\Autodesk\\Maya2013.5\\bin\\Render.exe',
    'C:\\Program Files\\Autodesk\\Maya2024\\bin\\Render.exe',
    'C:\\Program Files\\Autodesk\\Maya2023\\bin\\Render.exe'
  ], { Path: 'C:\\Windows\\system32' })
  t.is(await findExecutable('maya', undefined, machine), 'C:\\Program Files\\Autodesk\\Maya2024\\bin\\Render.exe')
})

test('Windows: PATH with PATHEXT comes before install folders, and Path is case-insensitive', async (t) => {
  const machine = host('win32', ['C:\\tools\\nuke.EXE', 'C:\\Program Files\\Nuke13.2v4\\Nuke13.2.exe'], { Path: 'C:\\Windows;C:\\tools', PATHEXT: '.COM;.EXE' })
  t.is(await findExecutable('nuke', undefined, machine), 'C:\\tools\\nuke.EXE')
  t.is(await findExecutable('nuke', undefined, host('win32', ['C:\\Program Files\\Nuke13.2v4\\Nuke13.2.exe'])), 'C:\\Program Files\\Nuke13.2v4\\Nuke13.2.exe')
})

test('Linux and macOS install folders', async (t) => {
  t.is(await findExecutable('maya', undefined, host('linux', ['/usr/autodesk/maya2022/bin/Render', '/usr/autodesk/maya2024/bin/Render'])), '/usr/autodesk/maya2024/bin/Render')
  t.is(await findExecutable('nuke', undefined, host('linux', ['/usr/local/Nuke14.0v5/Nuke14.0'])), '/usr/local/Nuke14.0v5/Nuke14.0')
  t.is(await findExecutable('maya', undefined, host('darwin', ['/Applications/Autodesk/maya2024/Maya.app/Contents/bin/Render'])), '/Applications/Autodesk/maya2024/Maya.app/Contents/bin/Render')
  t.is(await findExecutable('blender', undefined, host('darwin', ['/Applications/Blender.app/Contents/MacOS/Blender'])), '/Applications/Blender.app/Contents/MacOS/Blender')
  t.is(await findExecutable('blender', undefined, host('linux', ['/opt/blender-3.6/blender'], { PATH: '/usr/bin' })), '/opt/blender-3.6/blender')
})

test('a per-node override wins, and a wrong one is an error rather than silently replaced', async (t) => {
  const machine = host('linux', ['/usr/bin/blender', '/studio/blender-4.1/blender'], { PATH: '/usr/bin' })
  t.is(await findExecutable('blender', { blender: '/studio/blender-4.1/blender' }, machine), '/studio/blender-4.1/blender')
  await t.throwsAsync(findExecutable('blender', { blender: '/studio/nope/blender' }, machine), { name: 'ExecutableNotFoundError', message: /\/studio\/nope\/blender/ })
})

test('nothing found names where it looked; the procedural renderer uses the running node', async (t) => {
  const error = await t.throwsAsync(findExecutable('kick', undefined, host('linux', [], { PATH: '/usr/bin' })), { name: 'ExecutableNotFoundError' })
  t.regex(error.message, /PATH, \/opt\/solidangle\/mtoa/)
  t.is(await findExecutable('node', undefined, host('linux', [])), '/usr/bin/node')
})

test('the real host finds an executable file on PATH and skips one without the x bit', async (t) => {
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'a'))
  await mkdir(path.join(dir, 'b'))
  await writeFile(path.join(dir, 'a', 'kick'), '#!/bin/sh\n')
  await writeFile(path.join(dir, 'b', 'kick'), '#!/bin/sh\n')
  await chmod(path.join(dir, 'b', 'kick'), 0o755)
  const machine = { ...localHost(), env: { PATH: `${dir}/a:${dir}/b` }, platform: 'linux' as const }
  t.is(await findExecutable('kick', undefined, machine), path.join(dir, 'b', 'kick'))
})
