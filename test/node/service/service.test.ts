/**
 * Service Client: the definitions each OS's service manager reads, checked by real
 * parsers (systemd-analyze, Python's plistlib and XML parser), the install steps, and the
 * account the service runs as (a dedicated user, never root unless allowed).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { execa } from 'execa'
import { DEFAULT_SERVICE_USER, ServiceAccountError, serviceAccountFor } from '../../../src/node/service/account.js'
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
  group: 'render',
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
  t.regex(unit, /^Group=render$/m)
  if (!await available('systemd-analyze')) return
  const dir = await tempDir(t)
  const file = path.join(dir, 'constellation-node.service')
  // The account does not exist on the test machine; systemd-analyze would say so.
  await writeFile(file, unit.replace('User=render\n', '').replace('Group=render\n', ''))
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
    UserName: 'render',
    GroupName: 'render'
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

/** A stand-in for `id`: answers for the accounts given (name -> uid and primary group), fails for others. */
function accounts (known: Readonly<Record<string, { uid: number, group: string }>>, ran: string[] = []): CommandRunner {
  return async (file, args) => {
    ran.push([file, ...args].join(' '))
    const [flag, user = ''] = args
    const account = known[user]
    if (file !== 'id' || account === undefined) return Promise.resolve({ exitCode: 1, stdout: `id: '${user}': no such user\n` })
    return Promise.resolve({ exitCode: 0, stdout: `${flag === '-u' ? account.uid : account.group}\n` })
  }
}

test('by default the service runs as the dedicated user and its primary group; --user names another', async (t) => {
  const run = accounts({ constellation: { uid: 998, group: 'constellation' }, render: { uid: 1001, group: 'artists' } })
  t.is(DEFAULT_SERVICE_USER, 'constellation')
  for (const platform of ['linux', 'darwin'] as const) {
    t.deepEqual(await serviceAccountFor(platform, { allowRoot: false, dataDir: '/var/lib/constellation' }, run), { user: 'constellation', group: 'constellation' })
    t.deepEqual(await serviceAccountFor(platform, { user: 'render', allowRoot: false, dataDir: '/var/lib/constellation' }, run), { user: 'render', group: 'artists' })
  }
  const unit = systemdUnit({ ...spec, ...await serviceAccountFor('linux', { allowRoot: false, dataDir: '/var/lib/constellation' }, run) })
  t.regex(unit, /^User=constellation\nGroup=constellation$/m)
})

test('a missing service user is refused, saying how to create it', async (t) => {
  const ran: string[] = []
  const linux = await t.throwsAsync(serviceAccountFor('linux', { allowRoot: false, dataDir: '/srv/cr' }, accounts({}, ran)), { instanceOf: ServiceAccountError })
  t.regex(linux.message, /there is no user "constellation" to run the service as/)
  t.regex(linux.message, /^ {2}sudo useradd --system --home \/var\/lib\/constellation constellation$/m)
  t.regex(linux.message, /^ {2}sudo install -d -o constellation -g constellation \/srv\/cr$/m)
  t.regex(linux.message, /--user <name>/)
  t.deepEqual(ran, ['id -u constellation'])
  const named = await t.throwsAsync(serviceAccountFor('darwin', { user: 'farm', allowRoot: false, dataDir: '/srv/cr' }, accounts({})), { instanceOf: ServiceAccountError })
  t.regex(named.message, /there is no user "farm" to run the service as/)
  t.regex(named.message, /sysadminctl -addUser farm/)
})

test('running as root, by name or by uid 0, needs --allow-root', async (t) => {
  const run = accounts({ root: { uid: 0, group: 'root' }, toor: { uid: 0, group: 'wheel' } })
  for (const user of ['root', 'toor']) {
    const error = await t.throwsAsync(serviceAccountFor('linux', { user, allowRoot: false, dataDir: '/var/lib/constellation' }, run), { instanceOf: ServiceAccountError })
    t.regex(error.message, new RegExp(`would run as root \\("${user}"\\).*--allow-root`))
  }
  t.deepEqual(await serviceAccountFor('linux', { user: 'root', allowRoot: true, dataDir: '/var/lib/constellation' }, run), { user: 'root', group: 'root' })
  t.deepEqual(await serviceAccountFor('darwin', { user: 'toor', allowRoot: true, dataDir: '/var/lib/constellation' }, run), { user: 'toor', group: 'wheel' })
})

test('on Windows the account is the one named, or WinSW\'s LocalSystem, and the install says so', async (t) => {
  const run = accounts({})
  t.deepEqual(await serviceAccountFor('win32', { allowRoot: false, dataDir: 'C:\\ProgramData\\Constellation' }, run), {})
  t.deepEqual(await serviceAccountFor('win32', { user: 'NT AUTHORITY\\LocalService', allowRoot: false, dataDir: 'C:\\ProgramData\\Constellation' }, run), { user: 'NT AUTHORITY\\LocalService' })
  const root = await tempDir(t)
  const manager = serviceManagerFor('win32', { root, run: async () => Promise.resolve({ exitCode: 0, stdout: '' }) }, 'svc')
  const { user: _user, group: _group, ...asSystem } = spec
  const report = await manager.install(asSystem)
  t.regex(report.at(-1) ?? '', /runs as LocalSystem.*--user <account>/)
  t.notRegex(await readFile(manager.definitionFile, 'utf8'), /serviceaccount/)
})
