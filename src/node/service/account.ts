/**
 * The account the service runs as. A node runs renderers for whoever holds the swarm
 * key, with the rights of its account, so on Linux and macOS the service runs as a
 * dedicated user (`constellation`) unless `--user` names another, and as root only with
 * `--allow-root`. The account must exist: install says how to create it rather than write
 * a unit that cannot start, and never creates accounts itself. On Windows, WinSW runs the
 * service as LocalSystem unless `--user` names an account (see README).
 */
import type { CommandRunner, ServicePlatform } from './manager.js'

/** The dedicated account of a node service when `--user` names none. */
export const DEFAULT_SERVICE_USER = 'constellation'
/** Where the dedicated account's home and the node's data usually live. */
export const DEFAULT_SERVICE_HOME = '/var/lib/constellation'

export interface AccountRequest {
  /** `--user`: the account to run as; the dedicated one when absent (Windows: LocalSystem). */
  readonly user?: string
  /** `--allow-root`: running as root (uid 0) is what the admin means. */
  readonly allowRoot: boolean
  /** The node's data dir, which the account must own. */
  readonly dataDir: string
}

export interface ServiceAccount {
  /** Absent on Windows without `--user`: WinSW's default, LocalSystem. */
  readonly user?: string
  readonly group?: string
}

export class ServiceAccountError extends Error {
  override readonly name = 'ServiceAccountError'
  constructor (readonly user: string, readonly why: string) {
    super(why)
  }
}

const ROOT_UID = 0

function rootRefusal (user: string): ServiceAccountError {
  return new ServiceAccountError(user, [
    `the service would run as root ("${user}"): every renderer it starts, and any program a job names, would have full control of this machine.`,
    `Run it as a dedicated user (the default, ${DEFAULT_SERVICE_USER}, or --user <name>), or pass --allow-root if that is what you mean.`
  ].join(' '))
}

function missingAccount (platform: ServicePlatform, user: string, dataDir: string): ServiceAccountError {
  const create = platform === 'linux'
    ? [`  sudo useradd --system --home ${DEFAULT_SERVICE_HOME} ${user}`, `  sudo install -d -o ${user} -g ${user} ${dataDir}`]
    : [`  create the account (System Settings > Users & Groups, or \`sudo sysadminctl -addUser ${user}\`)`, `  sudo install -d -o ${user} ${dataDir}`]
  return new ServiceAccountError(user, [
    `there is no user "${user}" to run the service as. Create it and give it the node's data dir, then install again:`,
    ...create,
    'It also needs to read the node\'s config and swarm key. Or name an existing account with --user <name>.'
  ].join('\n'))
}

/**
 * The account and group the service will run as: the dedicated user by default, checked
 * to exist (its primary group comes with it) and not to be root unless allowed.
 */
export async function serviceAccountFor (platform: ServicePlatform, request: AccountRequest, run: CommandRunner): Promise<ServiceAccount> {
  if (platform === 'win32') return request.user === undefined ? {} : { user: request.user }
  const user = request.user ?? DEFAULT_SERVICE_USER
  if (user === 'root' && !request.allowRoot) throw rootRefusal(user)
  const uid = await run('id', ['-u', user])
  if (uid.exitCode !== 0) throw missingAccount(platform, user, request.dataDir)
  if (Number(uid.stdout.trim()) === ROOT_UID && !request.allowRoot) throw rootRefusal(user)
  const group = await run('id', ['-gn', user])
  if (group.exitCode !== 0 || group.stdout.trim() === '') throw new ServiceAccountError(user, `cannot find the primary group of "${user}" (\`id -gn ${user}\`: ${group.stdout.trim()})`)
  return { user, group: group.stdout.trim() }
}
