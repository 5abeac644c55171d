/**
 * Service Client: the definitions each OS's service manager reads, checked by real
 * parsers (systemd-analyze, Python's plistlib and XML parser), and the install steps.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { execa } from 'execa'
import { launchdPlist } from '../../../src/node/service/launchd.js'
import { serviceManagerFor, ServiceCommandError, type CommandRunner } from '../../../src/node/service/manager.js'
import type { ServiceSpec } from '../../../src/node/service/service-spec.js'
import { systemdUnit } from '../../../src/node/service/systemd.js'
import { winswConfig } from '../../../src/node/service/windows.js'

const spec: ServiceSpec = {
  nodePath: process.execPath,
  crPath: path.resolve('bin/cr.js'),
  configFile: '/etc/constellation/node config.toml',
  user: 'render',
  workingDirectory: '/var/lib/constellation',
  stopTimeoutSec: 30
}

async function tempDir (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-service-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  return dir
}

async function available (command: string): Promise<boolean> {
  return (await execa('sh', ['-c', `command -v ${command}`], { reject: false })).exitCode === 0
}

test('the systemd unit passes systemd-analyze verify', async (t) => {
  if (!await available('systemd-analyze')) {
    t.log('systemd-analyze is not installed here: checked the unit text only')
  }
  const unit = systemdUnit(spec)
  t.regex(unit, /^ExecStart=\S+ \S+cr\.js node --config "\/etc\/constellation\/node config\.toml"$/m)
  t.regex(unit, /^KillSignal=SIGTERM$/m)
  t.regex(unit, /^User=render$/m)
  if (!await available('systemd-analyze')) return
  const dir = await tempDir(t)
  const file = path.join(dir, 'constellation-node.service')
  await writeFile(file, unit.replace('User=render\n', ''))
  const verified = await execa('systemd-analyze', ['verify', file], { reject: false, all: true })
  t.is(verified.exitCode, 0, verified.all)
  t.notRegex(verified.all, /constellation-node\.service:\d+/, verified.all)
})

test('the launchd plist and the WinSW file parse, with the command line intact', async (t) => {
  const dir = await tempDir(t)
  const plist = path.join(dir, 'node.plist')
  await writeFile(plist, launchdPlist({ ...spec, configFile: '/Users/A&B/<node>.toml' }))
  const read = await execa('python3', ['-c', 'import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', plist])
  t.like(JSON.parse(read.stdout), {
    Label: 'studio.constellation.node',
    ProgramArguments: [spec.nodePath, spec.crPath, 'node', '--config', '/Users/A&B/<node>.toml'],
    RunAtLoad: true,
    UserName: 'render'
  })
  const xml = path.join(dir, 'constellation-node.xml')
  await writeFile(xml, winswConfig({ ...spec, nodePath: 'C:\\Program Files\\nodejs\\node.exe', crPath: 'C:\\cr\\bin\\cr.js', configFile: 'C:\\ProgramData\\Constellation\\node.toml' }))
  const parsed = await execa('python3', ['-c', 'import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); print(r.find("executable").text); print(r.find("arguments").text); print(r.find("stoptimeout").text)', xml])
  t.deepEqual(parsed.stdout.split('\n'), ['C:\\Program Files\\nodejs\\node.exe', 'C:\\cr\\bin\\cr.js node --config C:\\ProgramData\\Constellation\\node.toml', '30 sec'])
})

test('install writes the unit, then reloads, enables and starts it; uninstall undoes it', async (t) => {
  const root = await tempDir(t)
  const ran: string[] = []
  const run: CommandRunner = async (file, args) => {
    ran.push([file, ...args].join(' '))
    return Promise.resolve({ exitCode: 0, stdout: 'active' })
  }
  const manager = serviceManagerFor('linux', { root, run }, 'unused')
  const report = await manager.install(spec)
  t.is(await readFile(manager.definitionFile, 'utf8'), systemdUnit(spec))
  t.deepEqual(ran, ['systemctl daemon-reload', 'systemctl enable --now constellation-node'])
  t.deepEqual(report, [`installed ${manager.definitionFile}`, 'enabled and started constellation-node'])
  t.like(await manager.status(), { installed: true, running: true })
  await manager.uninstall()
  await t.throwsAsync(readFile(manager.definitionFile))
})

test('a failing service manager command is reported with its output', async (t) => {
  const root = await tempDir(t)
  const run: CommandRunner = async () => Promise.resolve({ exitCode: 1, stdout: 'Failed to connect to bus: No such file or directory\n' })
  const manager = serviceManagerFor('linux', { root, run }, 'unused')
  const error = await t.throwsAsync(manager.install(spec), { instanceOf: ServiceCommandError })
  t.is(error.message, '`systemctl daemon-reload` failed with exit code 1: Failed to connect to bus: No such file or directory')
})
