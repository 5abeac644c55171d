/**
 * How a command reaches the farm: the flags every controller command shares (data
 * directory, swarm key, peers, listen address, mDNS tag, timeout), each with an
 * environment variable, and a session that opens a controller, catches up, runs the
 * command and always closes it again.
 */
import path from 'node:path'
import { Option, type Command } from 'commander'
import { Controller } from '../node/controller/controller.js'
import { NoPeerReachableError } from '../node/controller/errors.js'
import { defaultDataDir } from '../node/config/node-config.js'
import { createLogger, levelFromEnv } from '../node/log.js'
import type { DraftBody, VerifiedEvent } from '../protocol/events.js'
import { UsageError } from './exit.js'
import { StatusLine } from './progress.js'

/** Long enough for mDNS and a catch-up on a busy LAN; `--timeout` changes it. */
const DEFAULT_TIMEOUT_S = 10

export interface ConnectionOptions {
  readonly dataDir: string
  readonly swarmKey?: string
  readonly peer: readonly string[]
  readonly listen: string
  readonly mdnsTag?: string
  readonly timeout: string
  readonly verbose?: boolean
}

/** `--data-dir` (`CR_DATA_DIR`): which identity and copy of the log a command uses. */
export function dataDirOption (description = 'this machine\'s identity and copy of the log'): Option {
  return new Option('--data-dir <dir>', description).env('CR_DATA_DIR').default(defaultDataDir())
}

/** Adds the shared connection flags to a command. */
export function withConnectionOptions (command: Command): Command {
  return command
    .addOption(dataDirOption())
    .addOption(new Option('--swarm-key <file>', 'the studio\'s swarm key (default: swarm.key in the data dir)').env('CR_SWARM_KEY'))
    .addOption(new Option('--peer <multiaddr>', 'a peer to dial where mDNS cannot reach (repeatable)')
      .argParser((value: string, previous: string[]) => [...previous, value]).default([]))
    .addOption(new Option('--listen <multiaddr>', 'where this controller listens').env('CR_LISTEN').default('/ip4/0.0.0.0/tcp/0'))
    .addOption(new Option('--mdns-tag <tag>', 'the farm\'s mDNS service tag').env('CR_MDNS_TAG'))
    .addOption(new Option('--timeout <seconds>', 'how long to wait for a peer').env('CR_TIMEOUT').default(String(DEFAULT_TIMEOUT_S)))
    .option('--verbose', 'show progress and mesh messages on stderr even when it is not a terminal')
    .hook('postAction', exitOnceFlushed)
}

/**
 * Ends the process once what it printed is out. libp2p leaves a one-second timer behind
 * after it stops (its address-update debounce), and a finished command need not wait it out.
 */
async function exitOnceFlushed (): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    await new Promise<void>((resolve) => { stream.write('', () => { resolve() }) })
  }
  process.exit()
}

/** An open controller that has caught up (or found no peer), for one command. */
export interface Session {
  readonly controller: Controller
  /** Whether a peer answered the catch-up; reads without one show the local copy. */
  readonly reachedPeer: boolean
  /** Writes `body` and waits until a peer stored it; throws NoPeerReachableError. */
  readonly write: (body: DraftBody) => Promise<VerifiedEvent>
  readonly status: StatusLine
}

export type SessionMode = 'read' | 'write'

/**
 * Opens a controller, catches up, runs `work` and closes. A read without any peer warns
 * and goes on with the local copy; a write without one fails before writing anything.
 */
export async function inSession<T> (options: ConnectionOptions, mode: SessionMode, work: (session: Session) => T | Promise<T>): Promise<T> {
  const timeoutMs = timeoutOf(options)
  const status = new StatusLine(process.stderr, options.verbose === true)
  const controller = new Controller({
    dataDir: options.dataDir,
    swarmKeyFile: options.swarmKey ?? path.join(options.dataDir, 'swarm.key'),
    mesh: {
      listen: [options.listen],
      bootstrapPeers: [...options.peer],
      ...(options.mdnsTag === undefined ? {} : { mdns: { serviceTag: options.mdnsTag } })
    },
    // Mesh records are for operators; a command shows them with --verbose or CR_LOG_LEVEL.
    logger: createLogger('cr', { level: options.verbose === true ? 'info' : process.env.CR_LOG_LEVEL === undefined ? 'warn' : levelFromEnv(process.env) })
  })
  try {
    await controller.open()
    const { peers } = await controller.catchUp({ timeoutMs, onProgress: status.report })
    status.clear()
    if (peers.length === 0) {
      if (mode === 'write') throw new NoPeerReachableError(options.dataDir, timeoutMs, false)
      console.error(`cr: warning: no peer reachable within ${timeoutMs / 1000} s; showing this machine's local copy of the log, which may be out of date`)
    }
    const write = async (body: DraftBody): Promise<VerifiedEvent> => {
      try {
        return await controller.write(body, { timeoutMs, onProgress: status.report })
      } finally {
        status.clear()
      }
    }
    return await work({ controller, reachedPeer: peers.length > 0, write, status })
  } finally {
    status.clear()
    await controller.close()
  }
}

function timeoutOf (options: ConnectionOptions): number {
  const seconds = Number(options.timeout)
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError('--timeout', `must be a positive number of seconds, not ${JSON.stringify(options.timeout)}`)
  return seconds * 1000
}
