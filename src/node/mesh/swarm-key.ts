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
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { InvalidSwarmKeyError, SwarmKeyExistsError, SwarmKeyNotFoundError } from './errors.js'

const HEADER = '/key/swarm/psk/1.0.0/'
const ENCODING = '/base16/'
export const SWARM_KEY_BYTES = 32
/** A swarm key file is three short lines; anything much larger is not one. */
const SWARM_KEY_FILE_MAX_BYTES = 1024
/** Owner read/write only: the key is the farm's only secret. */
const SWARM_KEY_FILE_MODE = 0o600

/** A new key in the file format, ready for `preSharedKey({ psk })` or `writeSwarmKey`. */
export function generateSwarmKey (): Uint8Array {
  return formatSwarmKey(randomBytes(SWARM_KEY_BYTES))
}

/**
 * Checks the file format and returns the key in the canonical form @libp2p/pnet expects.
 * Tolerates CRLF line ends and trailing whitespace, which hand-copied files pick up.
 */
export function parseSwarmKey (bytes: Uint8Array, source: string): Uint8Array {
  if (bytes.length > SWARM_KEY_FILE_MAX_BYTES) throw new InvalidSwarmKeyError(source, `${bytes.length} bytes is too large for a swarm key file`)
  const lines = Buffer.from(bytes).toString('utf8').trim().split(/\r?\n/).map((line) => line.trim())
  const [header, encoding, hex, ...rest] = lines
  if (header !== HEADER) throw new InvalidSwarmKeyError(source, `the first line must be ${HEADER}`)
  if (encoding !== ENCODING) throw new InvalidSwarmKeyError(source, `the second line must be ${ENCODING} (the only encoding supported)`)
  if (hex === undefined || !new RegExp(`^[0-9a-fA-F]{${SWARM_KEY_BYTES * 2}}$`).test(hex)) {
    throw new InvalidSwarmKeyError(source, `the third line must be ${SWARM_KEY_BYTES * 2} hexadecimal digits`)
  }
  if (rest.length > 0) throw new InvalidSwarmKeyError(source, 'unexpected lines after the key')
  return formatSwarmKey(Buffer.from(hex, 'hex'))
}

/** Reads and checks the swarm key file at `path`. */
export async function readSwarmKey (path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) throw new SwarmKeyNotFoundError(path)
    throw error
  }
  return parseSwarmKey(bytes, path)
}

/**
 * Writes a new swarm key to `path` (owner-only permissions) and returns it. Refuses to
 * replace an existing key unless `overwrite` is set.
 */
export async function writeSwarmKey (path: string, options: { readonly overwrite?: boolean } = {}): Promise<Uint8Array> {
  const key = generateSwarmKey()
  await mkdir(dirname(path), { recursive: true })
  try {
    await writeFile(path, key, { mode: SWARM_KEY_FILE_MODE, flag: options.overwrite === true ? 'w' : 'wx' })
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
