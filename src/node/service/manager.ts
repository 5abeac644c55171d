/**
 * `cr service install|uninstall|status`: writes the OS's service definition and asks the
 * OS's service manager to enable, start, stop or describe it. Commands run through an
 * injected runner, so the same code drives systemctl, launchctl or WinSW.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { launchdPlist } from './launchd.js'
import { SERVICE_LABEL, SERVICE_NAME, type ServiceSpec } from './service-spec.js'
import { systemdUnit } from './systemd.js'
import { winswConfig } from './windows.js'

/** Runs a command to completion; resolves with its exit code and output. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<{ exitCode: number, stdout: string }>

export type ServicePlatform = 'linux' | 'darwin' | 'win32'

export class ServiceCommandError extends Error {
  override readonly name = 'ServiceCommandError'
  constructor (readonly command: string, readonly exitCode: number, output: string) {
    super(`\`${command}\` failed with exit code ${exitCode}${output === '' ? '' : `: ${output.trim()}`}`)
  }
}

export interface ServiceStatus {
  readonly installed: boolean
  readonly running: boolean
  readonly detail: string
}

export interface ServiceManager {
  /** Where the definition is written. */
  readonly definitionFile: string
  install: (spec: ServiceSpec) => Promise<string[]>
  uninstall: () => Promise<void>
  status: () => Promise<ServiceStatus>
}

interface Layout {
  /** Prefix for system paths: '/' normally; a temporary folder in tests. */
  readonly root: string
  readonly run: CommandRunner
}

async function must (run: CommandRunner, file: string, args: readonly string[]): Promise<string> {
  const result = await run(file, args)
  if (result.exitCode !== 0) throw new ServiceCommandError([file, ...args].join(' '), result.exitCode, result.stdout)
  return result.stdout
}

async function writeDefinition (file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, text, { mode: 0o644 })
}

function systemdManager ({ root, run }: Layout): ServiceManager {
  const definitionFile = path.join(root, 'etc/systemd/system', `${SERVICE_NAME}.service`)
  return {
    definitionFile,
    install: async (spec) => {
      await writeDefinition(definitionFile, systemdUnit(spec))
      await must(run, 'systemctl', ['daemon-reload'])
      await must(run, 'systemctl', ['enable', '--now', SERVICE_NAME])
      return [`installed ${definitionFile}`, `enabled and started ${SERVICE_NAME}`]
    },
    uninstall: async () => {
      await run('systemctl', ['disable', '--now', SERVICE_NAME])
      await rm(definitionFile, { force: true })
      await must(run, 'systemctl', ['daemon-reload'])
    },
    status: async () => {
      const active = await run('systemctl', ['is-active', SERVICE_NAME])
      const enabled = await run('systemctl', ['is-enabled', SERVICE_NAME])
      return { installed: enabled.exitCode === 0, running: active.exitCode === 0, detail: `${active.stdout.trim()}, ${enabled.stdout.trim()}` }
    }
  }
}

function launchdManager ({ root, run }: Layout): ServiceManager {
  const definitionFile = path.join(root, 'Library/LaunchDaemons', `${SERVICE_LABEL}.plist`)
  const target = `system/${SERVICE_LABEL}`
  return {
    definitionFile,
    install: async (spec) => {
      await writeDefinition(definitionFile, launchdPlist(spec))
      await must(run, 'launchctl', ['bootstrap', 'system', definitionFile])
      return [`installed ${definitionFile}`, `loaded ${target}`]
    },
    uninstall: async () => {
      await run('launchctl', ['bootout', target])
      await rm(definitionFile, { force: true })
    },
    status: async () => {
      const printed = await run('launchctl', ['print', target])
      const running = /state = running/.test(printed.stdout)
      return { installed: printed.exitCode === 0, running, detail: printed.exitCode === 0 ? (running ? 'running' : 'loaded, not running') : 'not loaded' }
    }
  }
}

function windowsManager ({ root, run }: Layout, serviceDir: string): ServiceManager {
  const definitionFile = path.join(root, serviceDir, `${SERVICE_NAME}.xml`)
  const wrapper = path.join(root, serviceDir, `${SERVICE_NAME}.exe`)
  return {
    definitionFile,
    install: async (spec) => {
      await writeDefinition(definitionFile, winswConfig(spec))
      const installed = await run(wrapper, ['install'])
      if (installed.exitCode !== 0) {
        return [
          `wrote ${definitionFile}`,
          `next: put WinSW (the Windows Service Wrapper) at ${wrapper}, then run \`${wrapper} install\` and \`${wrapper} start\` as Administrator`
        ]
      }
      await must(run, wrapper, ['start'])
      return [
        `wrote ${definitionFile}`,
        `installed and started ${SERVICE_NAME} with WinSW`,
        ...(spec.user === undefined ? ['it runs as LocalSystem, which may do anything on this machine; reinstall with --user <account> to run it as a dedicated account'] : [])
      ]
    },
    uninstall: async () => {
      await run(wrapper, ['stop'])
      await must(run, wrapper, ['uninstall'])
      await rm(definitionFile, { force: true })
    },
    status: async () => {
      const result = await run(wrapper, ['status'])
      const detail = result.stdout.trim()
      return { installed: result.exitCode === 0 && !/NonExistent/i.test(detail), running: /Started|Running/i.test(detail), detail }
    }
  }
}

/** The service manager for `platform`; `serviceDir` holds the WinSW files on Windows. */
export function serviceManagerFor (platform: ServicePlatform, layout: Layout, serviceDir: string): ServiceManager {
  switch (platform) {
    case 'linux': return systemdManager(layout)
    case 'darwin': return launchdManager(layout)
    case 'win32': return windowsManager(layout, serviceDir)
  }
}
