/**
 * Paths that name a folder of this machine only: a temporary folder, a home folder, a
 * per-user runtime folder. A render node on another machine has its own /tmp and its own
 * homes, so a job whose scene or target lies there fails on it, or writes its frames where
 * nobody looks. Studios share storage under other roots (/mnt, /projects, /Volumes...).
 */
import { homedir } from 'node:os'
import path from 'node:path'

const TEMPORARY = ['/tmp', '/var/tmp', '/dev/shm', '/private/tmp', '/private/var/folders']
const RUNTIME = ['/run/user', '/var/run/user']
const HOMES = ['/home', '/Users', '/root']

function isUnder (file: string, folder: string): boolean {
  const relative = path.relative(folder, file)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

/** What kind of this machine's own folder `file` (absolute) is in, or undefined for a path that may be shared. */
export function machineLocalFolderOf (file: string, home = homedir()): string | undefined {
  if (TEMPORARY.some((folder) => isUnder(file, folder))) return 'a temporary folder'
  if (RUNTIME.some((folder) => isUnder(file, folder))) return 'a per-user runtime folder'
  if (isUnder(file, home) || HOMES.some((folder) => isUnder(file, folder))) return 'a home folder'
  return undefined
}
