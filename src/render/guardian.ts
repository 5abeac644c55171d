/**
 * The render guardian (Linux): a tiny POSIX sh process beside each render that ties the
 * renderer's process group to the node's life. A node killed with SIGKILL runs no exit
 * hook, so without it the renderer would keep rendering, unowned, until it next wrote to
 * the closed pipe; a node stopped with SIGSTOP would leave it rendering under a lease
 * the farm takes back.
 *
 * The guardian is a child of the node, in its own process group (so a signal to the
 * node's group, a terminal's Ctrl+Z say, never stops it), started through
 * `setpriv --pdeathsig TERM` so the kernel tells it the moment the node dies. Then it
 * kills the renderer's group (and its cgroup, through `cgroup.kill`, where there is one).
 * It also polls the node every GUARDIAN_POLL_S: a node that is gone or no longer its
 * parent (the backstop where setpriv is missing, or the node died before the signal was
 * armed) gets the same; a node in state T (stopped) gets the group stopped with it, and
 * continued when it runs again. It exits once the group is gone; the runner ends it
 * after the render in any case. It is sh, not a second Node process: it costs about a
 * megabyte where Node would cost fifty.
 */
import { spawn } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import type { RenderLogger } from './logger.js'

/** How often the guardian looks at the node: the delay before a stopped node's renderer stops. */
export const GUARDIAN_POLL_S = 0.25

/**
 * $1 the node's pid, $2 the renderer's process group, $3 a cgroup.kill file or ''.
 * `sleep & wait` rather than a plain sleep, so the parent-death signal is acted on at once.
 */
const GUARDIAN_SCRIPT = `
node=$1 group=$2 killfile=$3
die() {
  if [ -n "$killfile" ]; then echo 1 > "$killfile" 2>/dev/null; fi
  kill -KILL -"$group" 2>/dev/null
  exit 0
}
trap die TERM
# The state and parent pid from a /proc/<pid>/stat line, after the command name (which
# may hold spaces and parens); builtins only, so a poll forks nothing but its sleep.
parse() { rest=\${1##*) }; set -- $rest; state=$1 ppid=$2; }
stopped=
while kill -0 -"$group" 2>/dev/null; do
  read -r line < /proc/$$/stat || die
  parse "$line"
  [ "$ppid" = "$node" ] || die
  read -r line < /proc/"$node"/stat || die
  parse "$line"
  if [ "$state" = T ]; then
    kill -STOP -"$group" 2>/dev/null
    stopped=1
  elif [ -n "$stopped" ]; then
    kill -CONT -"$group" 2>/dev/null
    stopped=
  fi
  sleep ${GUARDIAN_POLL_S} < /dev/null > /dev/null 2>&1 &
  wait $!
done
`

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv']

let setprivPath: Promise<string | undefined> | undefined

async function findSetpriv (): Promise<string | undefined> {
  for (const candidate of SETPRIV_PATHS) {
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  return undefined
}

export interface GuardianRequest {
  /** The renderer's process group (its leader's pid). */
  readonly group: number
  /** The node the group must live and stop with: this process, unless a test says otherwise. */
  readonly nodePid?: number
  /** The render's cgroup folder, killed whole through `cgroup.kill` (cgroup v2) when the node dies. */
  readonly cgroupDir: string | undefined
  readonly logger: RenderLogger
}

export interface Guardian {
  readonly pid: number | undefined
  /** Ends the guardian (the render is over); idempotent. */
  stop(): void
}

/** The command line of a guardian, for the tests and for a person reading `ps`. */
export function guardianCommand (setpriv: string | undefined, nodePid: number, group: number, cgroupDir: string | undefined): { file: string, args: string[] } {
  const sh = ['/bin/sh', '-c', GUARDIAN_SCRIPT, 'cr-render-guardian', String(nodePid), String(group), cgroupDir === undefined ? '' : `${cgroupDir}/cgroup.kill`]
  if (setpriv === undefined) return { file: sh[0] as string, args: sh.slice(1) }
  return { file: setpriv, args: ['--pdeathsig', 'TERM', '--', ...sh] }
}

/** Starts a guardian for `group` (Linux only: elsewhere there is neither /proc nor a parent-death signal). */
export async function startGuardian (request: GuardianRequest): Promise<Guardian> {
  setprivPath ??= findSetpriv()
  const setpriv = await setprivPath
  if (setpriv === undefined) request.logger.debug('no setpriv: the render guardian polls for the node\'s death instead of being told', { group: request.group })
  const { file, args } = guardianCommand(setpriv, request.nodePid ?? process.pid, request.group, request.cgroupDir)
  const child = spawn(file, args, { stdio: 'ignore', detached: true })
  // It must never keep the node alive, nor take it down: a guardian that fails to start
  // leaves the render as it was before guardians (the exit hook and the sweep still hold).
  child.unref()
  child.once('error', (err) => { request.logger.warn('render guardian did not start', { group: request.group, error: String(err) }) })
  let stopped = false
  return {
    pid: child.pid,
    stop () {
      if (stopped) return
      stopped = true
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  }
}
