/**
 * The libp2p peer host: TCP, the studio's swarm key (pre-shared-key protector), Noise,
 * Yamux, identify, ping, mDNS and gossipsub, tuned for a LAN farm. This module only
 * assembles libp2p; what the mesh does with it (dialling, push, pull, scoring) lives in
 * the neighbouring modules. The host is created stopped: the caller registers handlers
 * and listeners first, then starts it.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { ping, type Ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { MeshConfig } from './config.js'
import { EPHEMERAL_TOPIC, LOG_TOPIC } from './protocols.js'

export type PeerHost = Libp2p<{ identify: Identify, ping: Ping, pubsub: GossipSub }>

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
  return await createLibp2p({
    start: false,
    privateKey: init.privateKey,
    addresses: { listen: [...config.listen] },
    transports: [tcp()],
    connectionProtector: preSharedKey({ psk: init.swarmKey }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(init.connectionGater === undefined ? {} : { connectionGater: init.connectionGater }),
    peerDiscovery: config.mdns.enabled
      ? [mdns({ serviceTag: config.mdns.serviceTag, interval: config.mdns.queryIntervalMs })]
      : [],
    connectionMonitor: {
      pingInterval: config.pingIntervalMs,
      pingTimeout: { minTimeout: config.pingTimeoutMs }
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        allowedTopics: [LOG_TOPIC, EPHEMERAL_TOPIC],
        // Nobody subscribed yet is normal at start-up; the sync that runs when a peer
        // subscribes delivers what could not be pushed (see push.ts).
        allowPublishToZeroTopicPeers: true,
        // Handle one peer's messages in arrival order, so one author's events are ingested
        // in seq order rather than racing into gaps.
        awaitRpcHandler: true,
        awaitRpcMessageHandler: true,
        maxInboundDataLength: GOSSIP_MAX_RPC_BYTES
      })
    }
  })
}
