/**
 * Real database servers for tests: a fresh PostgreSQL cluster or MariaDB data directory
 * of the test file's own, in a temp dir, listening only on a Unix socket there (so it
 * works inside the loopback-only namespace and touches no system server), stopped and
 * removed on teardown. Debian's postgresql and mariadb-server provide the binaries
 * (.ci/run installs them); without them the test fails saying so.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { access, chmod, chown, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

const POSTGRES_ROOT = '/usr/lib/postgresql'
const POSTGRES_SUPERUSER = 'postgres'
const MARIADB_SERVER = '/usr/sbin/mariadbd'
const MARIADB_CLIENT = '/usr/bin/mariadb'
const MARIADB_READY_MS = 15_000

export class MissingServerError extends Error {
  override readonly name = 'MissingServerError'
  constructor (readonly what: string, readonly looked: string) {
    super(`${what} is not installed (looked for ${looked}); install Debian's package as .ci/run does`)
  }
}

async function exists (file: string): Promise<boolean> {
  return await access(file).then(() => true, () => false)
}

/** A unique, SQL-safe database name. */
export function databaseName (prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`
}

async function postgresBin (): Promise<string> {
  const versions = await readdir(POSTGRES_ROOT).catch(() => [] as string[])
  const newest = versions.filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a))[0]
  const bin = newest === undefined ? undefined : path.join(POSTGRES_ROOT, newest, 'bin')
  if (bin === undefined || !(await exists(path.join(bin, 'initdb')))) throw new MissingServerError('PostgreSQL (postgresql)', `${POSTGRES_ROOT}/<version>/bin/initdb`)
  return bin
}

/** The server refuses to run as root: as root, run its tools as the package's postgres user. */
function asServerUser (command: string, args: readonly string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', POSTGRES_SUPERUSER, '--', command, ...args]] : [command, [...args]]
}

export interface PostgresServer {
  /** The directory holding the server's socket: a URL's host. */
  readonly socketDir: string
  readonly password: string
  /** A connection URL for `database`, with another password if given. */
  url: (database: string, password?: string) => string
  /** Creates an empty database and returns its name. */
  createDatabase: (prefix: string) => Promise<string>
  /** Runs psql on `database`: SQL text (`sql`) or a file (`file`), stopping at the first error; returns its unaligned output. */
  psql: (database: string, input: { sql: string } | { file: string }) => Promise<string>
  /** Stops the server and removes its directory (for test.after.always: hooks have no teardown). */
  stop: () => Promise<void>
}

/** A PostgreSQL cluster of this test file's own, with password (scram) auth on its socket. */
export async function startPostgres (): Promise<PostgresServer> {
  const bin = await postgresBin()
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-pg-'))
  const password = randomBytes(8).toString('hex')
  const data = path.join(dir, 'data')
  const passwordFile = path.join(dir, 'password')
  await writeFile(passwordFile, password)
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', POSTGRES_SUPERUSER])
    const { stdout: gid } = await run('id', ['-g', POSTGRES_SUPERUSER])
    await chown(dir, Number(stdout), Number(gid))
    await chown(passwordFile, Number(stdout), Number(gid))
  }
  // Tests (as root) reach the socket in here too.
  await chmod(dir, 0o755)
  const pgCtl = path.join(bin, 'pg_ctl')
  const stop = async (): Promise<void> => {
    await run(...asServerUser(pgCtl, ['stop', '-D', data, '-m', 'immediate'])).catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await initPostgres(bin, data, passwordFile, dir)
  } catch (error) {
    await stop()
    throw error
  }

  const psql = async (database: string, input: { sql: string } | { file: string }): Promise<string> => {
    const source = 'sql' in input ? ['-c', input.sql] : ['-f', input.file]
    const { stdout } = await run(path.join(bin, 'psql'), ['-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-U', POSTGRES_SUPERUSER, '-d', database, ...source],
      { env: { ...process.env, PGPASSWORD: password }, maxBuffer: 64 * 1024 * 1024 })
    return stdout
  }
  return {
    socketDir: dir,
    password,
    url: (database, other = password) => `postgres://${POSTGRES_SUPERUSER}:${encodeURIComponent(other)}@localhost/${database}?host=${encodeURIComponent(dir)}`,
    createDatabase: async (prefix) => {
      const name = databaseName(prefix)
      await psql('postgres', { sql: `CREATE DATABASE ${name}` })
      return name
    },
    psql,
    stop
  }
}

async function initPostgres (bin: string, data: string, passwordFile: string, socketDir: string): Promise<void> {
  await run(...asServerUser(path.join(bin, 'initdb'), ['-D', data, '-U', POSTGRES_SUPERUSER, `--pwfile=${passwordFile}`,
    '--auth=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']))
  // No TCP at all, and durability traded for speed: the cluster lives as long as the test file.
  await run(...asServerUser(path.join(bin, 'pg_ctl'), ['start', '-w', '-D', data, '-l', path.join(socketDir, 'server.log'),
    '-o', `-k ${socketDir} -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off`]))
}

export interface MariadbServer {
  readonly socket: string
  createDatabase: (prefix: string) => Promise<string>
  /** Runs the mariadb client on `database` (SQL text or a file); returns its tab-separated rows, no header. */
  mariadb: (database: string, input: { sql: string } | { file: string }) => Promise<string>
  /** Stops the server and removes its directory. */
  stop: () => Promise<void>
}

async function waitForMariadb (client: (sql: string) => Promise<unknown>, log: string): Promise<void> {
  const deadline = Date.now() + MARIADB_READY_MS
  for (;;) {
    try {
      await client('SELECT 1')
      return
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`MariaDB did not accept connections within ${MARIADB_READY_MS} ms (see ${log})`, { cause: error })
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/** A MariaDB server of this test file's own on a socket in a temp dir, no networking. */
export async function startMariadb (): Promise<MariadbServer> {
  for (const binary of [MARIADB_SERVER, MARIADB_CLIENT]) if (!(await exists(binary))) throw new MissingServerError('MariaDB (mariadb-server)', binary)
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-mariadb-'))
  const data = path.join(dir, 'data')
  const socket = path.join(dir, 'mariadb.sock')
  const log = path.join(dir, 'server.log')
  const user = process.getuid?.() === 0 ? ['--user=root'] : []
  await run('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, ...user, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'])
  const server = execFile(MARIADB_SERVER, ['--no-defaults', `--datadir=${data}`, `--socket=${socket}`, '--skip-networking', `--pid-file=${path.join(dir, 'mariadb.pid')}`,
    ...user, `--log-error=${log}`, '--innodb-flush-log-at-trx-commit=0', '--skip-log-bin'])
  const exited = new Promise((resolve) => server.once('exit', resolve))
  const stop = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM')
    await exited
    await rm(dir, { recursive: true, force: true })
  }

  const mariadb = async (database: string, input: { sql: string } | { file: string }): Promise<string> => {
    const source = 'sql' in input ? ['-e', input.sql] : ['-e', `source ${input.file}`]
    const { stdout } = await run(MARIADB_CLIENT, ['--no-defaults', `--socket=${socket}`, '-u', 'root', '--batch', '--raw', '--skip-column-names', database, ...source],
      { maxBuffer: 64 * 1024 * 1024 })
    return stdout
  }
  try {
    await waitForMariadb((sql) => mariadb('mysql', { sql }), log)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    socket,
    createDatabase: async (prefix) => {
      const name = databaseName(prefix)
      await mariadb('mysql', { sql: `CREATE DATABASE ${name} CHARACTER SET utf8mb4` })
      return name
    },
    mariadb,
    stop
  }
}

/**
 * The report queries every destination must answer alike (keys and figures of each view),
 * in portable SQL: double-quoted names (MariaDB runs them with ANSI_QUOTES).
 */
export const REPORT_QUERIES: readonly string[] = [
  'SELECT "jobUuid", "averageFrameMs", "frames" FROM "constellationJobRenderTimeView" ORDER BY "jobUuid"',
  'SELECT "clientId", "averageFrameMs" FROM "constellationNodeRenderTimeView" ORDER BY "clientId"',
  'SELECT "clientId", "failures", "jobs" FROM "constellationNodeFailureView" ORDER BY "clientId"',
  'SELECT "jobUuid", "failures" FROM "constellationJobFailureView" ORDER BY "jobUuid"',
  'SELECT SUM("frames") FROM "constellationFramesDayView"',
  'SELECT SUM("utilisation"), SUM("onlineNodeHours") FROM "constellationUtilisationHourView"',
  'SELECT "jobUuid", "jobStatus", "jobFramesDone" FROM "constellationJobTable" ORDER BY "jobUuid"'
]

/** The same answer whichever client printed it: numbers to 3 decimals, NULL as empty. */
export function normalizedCell (cell: string | number | bigint | boolean | null | undefined): string {
  if (cell === null || cell === undefined || cell === 'NULL') return ''
  const text = String(cell)
  return /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(text) ? Number(text).toFixed(3) : text
}

/** A client's tab-separated output as normalized rows. */
export function normalizedRows (output: string): string[][] {
  return output.split('\n').filter((line) => line !== '').map((line) => line.split('\t').map(normalizedCell))
}
