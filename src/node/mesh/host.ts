/**
 * The libp2p peer host: TCP, the studio's swarm key (pre-shared-key protector), Noise,
 * Yamux, identify, mDNS and gossipsub, tuned for a LAN farm; no ping service, since
 * keep-alive.ts tells live peers from hung ones and nothing of ours pings. This module only
 * assembles libp2p; what the mesh does with it (dialling, push, pull, scoring) lives in
 * the neighbouring modules. The host is created stopped: the caller registers handlers
 * and listeners first, then starts it.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PeerDiscovery, PrivateKey } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { MeshConfig } from './config.js'
import { EPHEMERAL_TOPIC, LOG_TOPIC } from './protocols.js'

// A type alias, not an interface: libp2p's ServiceMap needs an index signature.
export type PeerHostServices = {
  identify: Identify
  pubsub: GossipSub
  /**
   * mDNS, as a service rather than a libp2p peer discovery: libp2p announces only peers new
   * to its peer store, but after a partition heals or a peer restarts we must hear about
   * known peers again, so discovery.ts listens to every mDNS answer itself.
   */
  mdns?: PeerDiscovery
}

export type PeerHost = Libp2p<PeerHostServices>

/**
 * Largest gossip RPC frame accepted. One frame may carry many events (replies to IWANT
 * bundle them), so this is far above one event; single messages above the event limit
 * still reach the topic validators, which log them as oversized with the sender.
 */
export const GOSSIP_MAX_RPC_BYTES = 4 * 1024 * 1024

export interface PeerHostInit {
  /** The node identity: also the key that signs its events, so gossip sender and author agree. */
  readonly privateKey: PrivateKey
  /** The swarm key file's bytes (swarm-key.ts). */
  readonly swarmKey: Uint8Array
  readonly config: MeshConfig
  /** Refuses banned peers (offences.ts). */
  readonly connectionGater?: ConnectionGater
}

export async function createPeerHost (init: PeerHostInit): Promise<PeerHost> {
  const { config } = init
  return await createLibp2p<PeerHostServices>({
    start: false,
    privateKey: init.privateKey,
    addresses: { listen: [...config.listen] },
    transports: [tcp()],
    connectionProtector: preSharedKey({ psk: init.swarmKey }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(init.connectionGater === undefined ? {} : { connectionGater: init.connectionGater }),
    // keep-alive.ts notices hung peers, for a fraction of the monitor's cost.
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        allowedTopics: [LOG_TOPIC, EPHEMERAL_TOPIC],
        // Nobody subscribed yet is normal at start-up; the sync that runs when a peer
        // subscribes delivers what could not be pushed (see push.ts).
        allowPublishToZeroTopicPeers: true,
        // Handle one peer's messages in arrival order, so one author's events are ingested
        // in seq order rather than racing into gaps.
        awaitRpcHandler: true,
        awaitRpcMessageHandler: true,
        maxInboundDataLength: GOSSIP_MAX_RPC_BYTES,
        // Gossipsub checks a message's signature before it looks it up among those seen, and
        // in a small full mesh every message arrives from every peer. This id (publisher and
        // seqno, what the spec'ed id is made of) drops those copies before their signatures are
        // checked again; only messages that passed validation are remembered under it.
        fastMsgIdFn: (message) => `${hex(message.from)}/${hex(message.seqno)}`
      }),
      ...(config.mdns.enabled ? { mdns: mdns({ serviceTag: config.mdns.serviceTag, interval: config.mdns.queryIntervalMs }) } : {})
    }
  })
}

function hex (bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}
