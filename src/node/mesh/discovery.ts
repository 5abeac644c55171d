/**
 * Finding peers and connecting to them. In libp2p 3, mDNS only reports peers; this dials
 * each one reported that we are not connected to, on every mDNS answer (libp2p's own
 * `peer:discovery` fires only for peers new to its peer store, which would leave a healed
 * partition apart). Static bootstrap peers (`--peer`, for
 * networks that block multicast) are dialled at start and again on a timer while they
 * are not connected, so a bootstrap peer that restarts is found again.
 */
import type { Libp2p, PeerDiscovery, PeerId, PeerInfo } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../log.js'

export interface DialFailure {
  /** The peer id, or the address for a static peer whose id we have not learned yet. */
  readonly target: string
  readonly error: Error
}

export interface PeerDialerInit {
  readonly host: Pick<Libp2p, 'peerId' | 'dial' | 'getConnections'>
  /** The mDNS service, when enabled. */
  readonly mdns: PeerDiscovery | undefined
  readonly bootstrapPeers: readonly string[]
  readonly bootstrapRedialMs: number
  readonly isBanned: (peer: string) => boolean
  readonly logger: Logger
  readonly onDialFailed: (failure: DialFailure) => void
}

export class PeerDialer {
  private readonly init: PeerDialerInit
  private readonly bootstrap: readonly Multiaddr[]
  /** The peer behind each static address, once a dial has told us. */
  private readonly bootstrapPeerIds = new Map<Multiaddr, PeerId>()
  private readonly dialing = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private readonly onDiscovery = (event: CustomEvent<PeerInfo>): void => { this.dialDiscovered(event.detail) }

  constructor (init: PeerDialerInit) {
    this.init = init
    this.bootstrap = init.bootstrapPeers.map((address) => multiaddr(address))
  }

  start (): void {
    if (this.timer !== undefined) return
    this.init.mdns?.addEventListener('peer', this.onDiscovery)
    this.dialBootstrap()
    this.timer = setInterval(() => { this.dialBootstrap() }, this.init.bootstrapRedialMs)
  }

  stop (): void {
    this.init.mdns?.removeEventListener('peer', this.onDiscovery)
    clearInterval(this.timer)
    this.timer = undefined
  }

  private dialDiscovered ({ id, multiaddrs }: PeerInfo): void {
    const peer = id.toString()
    if (id.equals(this.init.host.peerId) || this.isConnected(id) || this.init.isBanned(peer)) return
    this.attempt(peer, multiaddrs)
  }

  private dialBootstrap (): void {
    for (const address of this.bootstrap) {
      const known = this.bootstrapPeerIds.get(address)
      if (known !== undefined && (this.isConnected(known) || this.init.isBanned(known.toString()))) continue
      this.attempt(known?.toString() ?? address.toString(), [address], (peer) => this.bootstrapPeerIds.set(address, peer))
    }
  }

  /** One dial per target at a time: mDNS answers and redial ticks can outpace a slow dial. */
  private attempt (target: string, addresses: Multiaddr[], onConnected?: (peer: PeerId) => void): void {
    if (this.dialing.has(target)) return
    this.dialing.add(target)
    void this.init.host.dial(addresses).then((connection) => {
      this.init.logger.debug('dialled', { peer: connection.remotePeer.toString() })
      onConnected?.(connection.remotePeer)
    }, (error: unknown) => {
      this.init.logger.debug('dial failed', { target, error })
      this.init.onDialFailed({ target, error: error as Error })
    }).finally(() => this.dialing.delete(target))
  }

  private isConnected (peer: PeerId): boolean {
    return this.init.host.getConnections(peer).length > 0
  }
}
