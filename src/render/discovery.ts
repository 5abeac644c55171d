/**
 * Finding a renderer's executable on this node: the node's own setting first (the seed's
 * per-client renderer paths), then PATH, then each vendor's usual install folders, newest
 * version first (Windows `C:\Program Files\Autodesk\Maya<ver>\bin\Render.exe` as in the
 * seed, Linux `/usr/autodesk/maya<ver>/bin/Render`, macOS `/Applications/...`).
 */
import { constants } from 'node:fs'
import { access, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { ExecutableNotFoundError } from './errors.js'
import type { ExecutableOverrides, Program } from './task.js'

/** The file-system and environment facts discovery needs, so tests can stage any OS. */
export interface DiscoveryHost {
  readonly platform: NodeJS.Platform
  readonly env: Readonly<Record<string, string | undefined>>
  /** The running node, the default for the procedural renderer. */
  readonly execPath: string
  isExecutableFile(file: string): Promise<boolean>
  /** Entry names of a folder; none when it does not exist. */
  listDir(dir: string): Promise<string[]>
}

/** Versioned install folders: entries of `dir` matching `entry`, newest first, then `file` inside. */
interface InstallGlob {
  readonly dir: string
  readonly entry: RegExp
  /** The executable's path inside a matching entry (the entry name is passed: Nuke names its binary after it). */
  readonly file: (entry: string) => string
}

interface ProgramLocations {
  readonly pathNames: readonly string[]
  readonly installs: Partial<Record<NodeJS.Platform, readonly InstallGlob[]>>
}

const MAYA_WIN = 'C:\\Program Files\\Autodesk'
const MAYA_LINUX = '/usr/autodesk'
const MAYA_MAC = '/Applications/Autodesk'
const MAYA_ENTRY = /^maya\d{4}(?:\.\d+)?(?:-x64)?$/i

/** "Nuke13.2v4" -> "Nuke13.2": Nuke's binary carries the major.minor of its folder. */
function nukeBinary(entry: string): string {
  return entry.replace(/v\d+$/i, '')
}

const LOCATIONS: Readonly<Record<Exclude<Program, 'node'>, ProgramLocations>> = {
  maya: {
    pathNames: ['Render'],
    installs: {
      win32: [{ dir: MAYA_WIN, entry: MAYA_ENTRY, file: () => 'bin\\Render.exe' }],
      linux: [{ dir: MAYA_LINUX, entry: MAYA_ENTRY, file: () => 'bin/Render' }],
      darwin: [{ dir: MAYA_MAC, entry: MAYA_ENTRY, file: () => 'Maya.app/Contents/bin/Render' }]
    }
  },
  nuke: {
    pathNames: ['nuke', 'Nuke'],
    installs: {
      win32: [{ dir: 'C:\\Program Files', entry: /^Nuke\d+\.\d+v\d+$/i, file: (e) => `${nukeBinary(e)}.exe` }],
      linux: [{ dir: '/usr/local', entry: /^Nuke\d+\.\d+v\d+$/i, file: nukeBinary }],
      darwin: [{ dir: '/Applications', entry: /^Nuke\d+\.\d+v\d+$/i, file: (e) => `${e}.app/Contents/MacOS/${nukeBinary(e)}` }]
    }
  },
  blender: {
    pathNames: ['blender'],
    installs: {
      win32: [{ dir: 'C:\\Program Files\\Blender Foundation', entry: /^Blender \d+\.\d+$/i, file: () => 'blender.exe' }],
      linux: [{ dir: '/opt', entry: /^blender/i, file: () => 'blender' }, { dir: '/snap', entry: /^bin$/, file: () => 'blender' }],
      darwin: [{ dir: '/Applications', entry: /^Blender\.app$/, file: () => 'Contents/MacOS/Blender' }]
    }
  },
  kick: {
    pathNames: ['kick'],
    installs: {
      win32: [{ dir: 'C:\\Program Files\\Autodesk\\Arnold', entry: /^maya\d{4}$/i, file: () => 'bin\\kick.exe' }],
      linux: [{ dir: '/opt/solidangle/mtoa', entry: /^\d{4}$/, file: () => 'bin/kick' }],
      darwin: [{ dir: '/Applications/solidangle/mtoa', entry: /^\d{4}$/, file: () => 'bin/kick' }]
    }
  },
  vray: {
    pathNames: ['vray'],
    installs: {
      win32: [{ dir: MAYA_WIN, entry: MAYA_ENTRY, file: () => 'vray\\bin\\vray.exe' }],
      linux: [{ dir: MAYA_LINUX, entry: MAYA_ENTRY, file: () => 'vray/bin/vray' }],
      darwin: [{ dir: MAYA_MAC, entry: MAYA_ENTRY, file: () => 'Maya.app/Contents/vray/bin/vray' }]
    }
  }
}

/** Version-aware descending order: Maya2024 before Maya2023.5 before Maya2013. */
const newestFirst = (a: string, b: string): number => b.localeCompare(a, 'en', { numeric: true, sensitivity: 'base' })

function envValue(host: DiscoveryHost, name: string): string | undefined {
  if (host.platform !== 'win32') return host.env[name]
  // Windows environment names are case-insensitive ("Path").
  const key = Object.keys(host.env).find((k) => k.toUpperCase() === name)
  return key === undefined ? undefined : host.env[key]
}

function pathCandidates(host: DiscoveryHost, names: readonly string[]): string[] {
  const paths = host.platform === 'win32' ? path.win32 : path.posix
  const dirs = (envValue(host, 'PATH') ?? '').split(host.platform === 'win32' ? ';' : ':').filter((d) => d !== '')
  const extensions = host.platform === 'win32' ? (envValue(host, 'PATHEXT') ?? '.EXE;.CMD;.BAT').split(';').filter((e) => e !== '') : ['']
  return dirs.flatMap((dir) => names.flatMap((name) => extensions.map((ext) => paths.join(dir, name + ext))))
}

async function installCandidates(host: DiscoveryHost, globs: readonly InstallGlob[]): Promise<string[]> {
  const paths = host.platform === 'win32' ? path.win32 : path.posix
  const found: string[] = []
  for (const glob of globs) {
    const entries = (await host.listDir(glob.dir)).filter((e) => glob.entry.test(e)).sort(newestFirst)
    found.push(...entries.map((e) => paths.join(glob.dir, e, glob.file(e))))
  }
  return found
}

/** The executable for a program; throws ExecutableNotFoundError when there is none. */
export async function findExecutable(program: Program, overrides: ExecutableOverrides | undefined, host: DiscoveryHost = localHost()): Promise<string> {
  const override = overrides?.[program]
  if (override !== undefined) {
    // A configured path that is wrong must be seen, not papered over by another copy.
    if (await host.isExecutableFile(override)) return override
    throw new ExecutableNotFoundError(program, [override])
  }
  if (program === 'node') return host.execPath
  const locations = LOCATIONS[program]
  const fromPath = pathCandidates(host, locations.pathNames)
  for (const candidate of fromPath) if (await host.isExecutableFile(candidate)) return candidate
  const installs = locations.installs[host.platform] ?? []
  for (const candidate of await installCandidates(host, installs)) if (await host.isExecutableFile(candidate)) return candidate
  throw new ExecutableNotFoundError(program, ['PATH', ...installs.map((g) => g.dir)])
}

export function localHost(): DiscoveryHost {
  return {
    platform: process.platform,
    env: process.env,
    execPath: process.execPath,
    async isExecutableFile(file) {
      try {
        await access(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK)
        return (await stat(file)).isFile()
      } catch {
        // Absent, unreadable or not executable are all "not this one": the search goes on.
        return false
      }
    },
    async listDir(dir) {
      try {
        return await readdir(dir)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return []
        throw err
      }
    }
  }
}
