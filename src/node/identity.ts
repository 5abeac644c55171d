/**
 * A node's identity: one Ed25519 key, created on first start and kept in the data dir.
 * It is both the libp2p peer key and the key that signs the node's events, so a gossip
 * sender's peer id and an event's author are the same name.
 */
import { access, chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { PrivateKey } from '@libp2p/interface'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'

export const IDENTITY_FILE = 'identity.key'

export class IdentityFileError extends Error {
  override readonly name = 'IdentityFileError'
  constructor (readonly file: string, why: string, options?: ErrorOptions) {
    super(`cannot use identity file ${file}: ${why}`, options)
  }
}

/** `--data-dir` (or a config's dataDir) names a file: nothing of a node can be kept in it. */
export class DataDirIsFileError extends Error {
  override readonly name = 'DataDirIsFileError'
  constructor (readonly dataDir: string, options?: ErrorOptions) {
    super(`the data directory ${dataDir} is a file, not a directory; give --data-dir a directory (it is made if missing)`, options)
  }
}

function isMissing (error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
}

/** A data dir's file that cannot be read: a data dir that is a file says so, anything else is `unreadable`. */
function unreadable (dataDir: string, file: string, error: unknown): Error {
  if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return new DataDirIsFileError(dataDir, { cause: error })
  return new IdentityFileError(file, 'unreadable', { cause: error })
}

/**
 * Throws DataDirIsFileError when `dataDir` exists and is not a directory. Checked before
 * anything else of the data dir (its swarm key, its identity, its store) is read, so the
 * message is about the data dir, not about whichever file of it came first.
 */
export async function assertDataDir (dataDir: string): Promise<void> {
  try {
    if (!(await stat(dataDir)).isDirectory()) throw new DataDirIsFileError(dataDir)
  } catch (error) {
    if (isMissing(error)) return
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new DataDirIsFileError(dataDir, { cause: error })
    throw error
  }
}

/**
 * Whether `dataDir` holds a node key already. A node whose key is older than its store
 * has written a feed before, which its peers hold: it must get that feed back, not start a new one.
 */
export async function hasIdentity (dataDir: string): Promise<boolean> {
  const file = path.join(dataDir, IDENTITY_FILE)
  try {
    await access(file)
    return true
  } catch (error) {
    if (isMissing(error)) return false
    throw unreadable(dataDir, file, error)
  }
}

/** Loads the node's key from `dataDir`, or creates and saves one (mode 0600) on first start. */
export async function loadOrCreateIdentity (dataDir: string): Promise<PrivateKey> {
  return loadIdentity(dataDir, { create: true })
}

/** Loads the node's key from `dataDir`; without `create`, a missing key is an error. */
export async function loadIdentity (dataDir: string, options: { readonly create: boolean }): Promise<PrivateKey> {
  const file = path.join(dataDir, IDENTITY_FILE)
  let bytes: Uint8Array
  try {
    bytes = await readFile(file)
  } catch (error) {
    if (!isMissing(error)) throw unreadable(dataDir, file, error)
    if (!options.create) throw new IdentityFileError(file, 'missing: is this a node\'s data directory?', { cause: error })
    return createIdentity(file)
  }
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (error) {
    throw new IdentityFileError(file, 'not a libp2p private key (corrupt or foreign file)', { cause: error })
  }
  if (key.type !== 'Ed25519') throw new IdentityFileError(file, `holds a ${key.type} key; nodes sign with Ed25519`)
  return key
}

async function createIdentity (file: string): Promise<PrivateKey> {
  const key = await generateKeyPair('Ed25519')
  await mkdir(path.dirname(file), { recursive: true })
  // Written aside then renamed, so a crash never leaves a half-written identity.
  const partial = `${file}.partial`
  await writeFile(partial, privateKeyToProtobuf(key), { mode: 0o600 })
  await chmod(partial, 0o600)
  await rename(partial, file)
  return key
}
