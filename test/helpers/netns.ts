/**
 * Separate hosts for partition tests, made of Linux network namespaces: one namespace per
 * host (`ip netns add`), each joined by a veth pair to a bridge in the test's own namespace,
 * so the hosts share one LAN segment (mDNS included) and a link can be cut and restored.
 *
 * Run only inside the test's private namespace (scripts/in-netns.sh), as root. Names under
 * /run/netns are machine-wide, so each network gets a random id, and `destroy` removes
 * everything it made. Addresses come from 198.18.0.0/15, the range set aside for network
 * tests, and exist only inside these namespaces.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface Host {
  /** The namespace to run the host's processes in (`ip netns exec`). */
  readonly namespace: string
  /** The host's address on the shared segment. */
  readonly address: string
  /** The bridge's end of the host's veth pair: taking it down cuts the host off. */
  readonly link: string
}

export class HostNetwork {
  private constructor (readonly bridge: string, readonly hosts: readonly Host[]) {}

  /** A bridge and `count` hosts on it, each with loopback up and a multicast route for mDNS. */
  static async create (count: number): Promise<HostNetwork> {
    const id = randomBytes(3).toString('hex')
    const bridge = `crb${id}`
    const hosts = Array.from({ length: count }, (_, index) => ({
      namespace: `cr-${id}-h${index + 1}`,
      address: `198.18.0.${index + 1}`,
      link: `crv${id}${index + 1}`
    }))
    const network = new HostNetwork(bridge, hosts)
    try {
      await ip('link', 'add', bridge, 'type', 'bridge', 'mcast_snooping', '0')
      await ip('link', 'set', bridge, 'up')
      for (const [index, host] of hosts.entries()) {
        const inside = `crh${id}${index + 1}`
        await ip('netns', 'add', host.namespace)
        await ip('link', 'add', inside, 'type', 'veth', 'peer', 'name', host.link)
        await ip('link', 'set', inside, 'netns', host.namespace)
        await ip('link', 'set', host.link, 'master', bridge)
        await ip('link', 'set', host.link, 'up')
        await ip('-n', host.namespace, 'link', 'set', 'lo', 'up')
        await ip('-n', host.namespace, 'addr', 'add', `${host.address}/24`, 'dev', inside)
        await ip('-n', host.namespace, 'link', 'set', inside, 'up')
        await ip('-n', host.namespace, 'route', 'add', '224.0.0.0/4', 'dev', inside)
      }
    } catch (error) {
      await network.destroy()
      throw error
    }
    return network
  }

  /**
   * Gives the test's own namespace `address` on the segment (on the bridge), so a peer
   * running in the test process (an observer) reaches the hosts; the address goes with the bridge.
   */
  async joinSegment (address: string): Promise<void> {
    await ip('addr', 'add', `${address}/24`, 'dev', this.bridge)
  }

  /** Cuts the host off the segment: its packets, and everyone's to it, are dropped. */
  async cut (host: Host): Promise<void> {
    await ip('link', 'set', host.link, 'down')
  }

  async restore (host: Host): Promise<void> {
    await ip('link', 'set', host.link, 'up')
  }

  /** Deletes the namespaces (their veth pairs go with them) and the bridge; safe to call twice. */
  async destroy (): Promise<void> {
    for (const host of this.hosts) await ip('netns', 'del', host.namespace).catch(ignoreMissing)
    await ip('link', 'del', this.bridge).catch(ignoreMissing)
  }
}

/**
 * `command` run in the host's network namespace only (`nsenter --net`), not `ip netns exec`,
 * which also gives the process a mount namespace of its own: the process keeps seeing the
 * mounts a test makes later (a full tmpfs, a read-only bind), and keeps its pid, so signals
 * reach it directly.
 */
export function inHost (host: Host, command: readonly string[]): string[] {
  return ['nsenter', `--net=/run/netns/${host.namespace}`, '--', ...command]
}

async function ip (...args: string[]): Promise<void> {
  try {
    await run('ip', args)
  } catch (error) {
    const { stderr } = error as { stderr?: string }
    throw new Error(`ip ${args.join(' ')} failed: ${stderr?.trim() ?? String(error)}`, { cause: error })
  }
}

function ignoreMissing (error: unknown): void {
  if (!/Cannot find|No such file|does not exist|Cannot open/.test((error as Error).message)) throw error
}
