/**
 * The studio's swarm key: a 32-byte secret shared by every machine of the farm. libp2p's
 * pre-shared-key protector (@libp2p/pnet) encrypts every connection with it before any
 * other handshake, so a machine without the key cannot even start talking to a peer.
 * `cr key generate` writes one; the file is copied to each machine by hand.
 *
 * The file uses the go-ipfs/js-libp2p format, so keys interoperate with other libp2p tools:
 *
 *     /key/swarm/psk/1.0.0/
 *     /base16/
 *     <64 hex digits>
 *     /founder/<peer id>
 *
 * The fourth line, ours, names the farm's founding identity: the first wrangler, who may
 * grant the role to others (protocol/authority.ts). It travels with the key because every
 * machine must agree on it, and every machine already holds this file. Other libp2p tools
 * want only the first three lines.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { peerIdSchema } from '../../protocol/schemas.js'
import { InvalidSwarmKeyError, SwarmKeyExistsError, SwarmKeyNotFoundError } from './errors.js'

const HEADER = '/key/swarm/psk/1.0.0/'
const ENCODING = '/base16/'
const FOUNDER = '/founder/'
export const SWARM_KEY_BYTES = 32
/** A swarm key file is three short lines; anything much larger is not one. */
const SWARM_KEY_FILE_MAX_BYTES = 1024
/** Owner read/write only: the key is the farm's only secret. */
const SWARM_KEY_FILE_MODE = 0o600

/** A new key in the file format, ready for `preSharedKey({ psk })` or `writeSwarmKey`. */
export function generateSwarmKey (): Uint8Array {
  return formatSwarmKey(randomBytes(SWARM_KEY_BYTES))
}

/** A swarm key file's two facts: the pre-shared key, and the farm's founder (null in a file without one). */
export interface FarmKey {
  readonly psk: Uint8Array
  readonly founder: string | null
}

/**
 * Checks the file format and returns the key in the canonical form @libp2p/pnet expects.
 * Tolerates CRLF line ends and trailing whitespace, which hand-copied files pick up.
 */
export function parseSwarmKey (bytes: Uint8Array, source: string): Uint8Array {
  return parseFarmKey(bytes, source).psk
}

/** Checks the file format and returns the key and the founder it names. */
export function parseFarmKey (bytes: Uint8Array, source: string): FarmKey {
  if (bytes.length > SWARM_KEY_FILE_MAX_BYTES) throw new InvalidSwarmKeyError(source, `${bytes.length} bytes is too large for a swarm key file`)
  const lines = Buffer.from(bytes).toString('utf8').trim().split(/\r?\n/).map((line) => line.trim())
  const [header, encoding, hex, ...rest] = lines
  if (header !== HEADER) throw new InvalidSwarmKeyError(source, `the first line must be ${HEADER}`)
  if (encoding !== ENCODING) throw new InvalidSwarmKeyError(source, `the second line must be ${ENCODING} (the only encoding supported)`)
  if (hex === undefined || !new RegExp(`^[0-9a-fA-F]{${SWARM_KEY_BYTES * 2}}$`).test(hex)) {
    throw new InvalidSwarmKeyError(source, `the third line must be ${SWARM_KEY_BYTES * 2} hexadecimal digits`)
  }
  const [founderLine, ...extra] = rest
  if (extra.length > 0 || (founderLine !== undefined && !founderLine.startsWith(FOUNDER))) {
    throw new InvalidSwarmKeyError(source, `unexpected lines after the key (only a ${FOUNDER}<peer id> line may follow it)`)
  }
  const founder = founderLine?.slice(FOUNDER.length) ?? null
  if (founder !== null && !peerIdSchema.safeParse(founder).success) throw new InvalidSwarmKeyError(source, `the founder line must name a peer id, not ${JSON.stringify(founder)}`)
  return { psk: formatSwarmKey(Buffer.from(hex, 'hex')), founder }
}

/** Reads and checks the swarm key file at `path`: the pre-shared key for libp2p. */
export async function readSwarmKey (path: string): Promise<Uint8Array> {
  return (await readFarmKey(path)).psk
}

/** Reads and checks the swarm key file at `path`: the key and the farm's founder. */
export async function readFarmKey (path: string): Promise<FarmKey> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) throw new SwarmKeyNotFoundError(path)
    throw error
  }
  return parseFarmKey(bytes, path)
}

/**
 * Writes a new swarm key to `path` (owner-only permissions), naming `founder` as the
 * farm's founding identity when given, and returns the key. Refuses to replace an
 * existing key unless `overwrite` is set.
 */
export async function writeSwarmKey (path: string, options: { readonly overwrite?: boolean, readonly founder?: string } = {}): Promise<Uint8Array> {
  const key = generateSwarmKey()
  const contents = options.founder === undefined ? key : Buffer.concat([key, Buffer.from(`${FOUNDER}${options.founder}\n`, 'utf8')])
  await mkdir(dirname(path), { recursive: true })
  try {
    await writeFile(path, contents, { mode: SWARM_KEY_FILE_MODE, flag: options.overwrite === true ? 'w' : 'wx' })
  } catch (error) {
    if (isErrorCode(error, 'EEXIST')) throw new SwarmKeyExistsError(path)
    throw error
  }
  return key
}

function formatSwarmKey (secret: Uint8Array): Uint8Array {
  return Buffer.from(`${HEADER}\n${ENCODING}\n${Buffer.from(secret).toString('hex')}\n`, 'utf8')
}

function isErrorCode (error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code
}
