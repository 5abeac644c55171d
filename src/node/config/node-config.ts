/**
 * A render node's configuration: a TOML file (documented in docs/node.example.toml),
 * then command-line flags on top. Everything has a default except what only the studio
 * can know (the swarm key). Farm settings here (limits, classes, schedule) seed the
 * node's entry in the shared client table on first start; after that the table is the
 * truth, edited with `cr node set` from any machine. What the node agrees to run
 * (`[render] software`) is the node's alone: it restates it at every start where it changed.
 */
import { readFile } from 'node:fs/promises'
import { hostname, homedir } from 'node:os'
import path from 'node:path'
import { parse as parseToml, TomlError } from 'smol-toml'
import { z } from 'zod'
import { softwareSchema, typedNodeSettingsFields } from '../../protocol/schemas.js'
import { DEFAULT_ACCEPTED_SOFTWARE } from '../../protocol/view.js'
import { formatDurationS, parseDurationS } from '../../protocol/duration.js'
import { MAX_TIMEOUT_PER_FRAME_S } from '../../protocol/vocabulary.js'
import { DEFAULT_SCRATCH_ROOT } from '../../render/contained.js'
import { PROGRAMS } from '../../render/task.js'
import { resolveMeshConfig, type MeshConfig } from '../mesh/config.js'
import { InvalidMeshConfigError } from '../mesh/errors.js'

export class NodeConfigError extends Error {
  override readonly name = 'NodeConfigError'
  constructor (readonly source: string, readonly field: string, readonly why: string, options?: ErrorOptions) {
    super(`${source}: ${field}: ${why}`, options)
  }
}

/** Where state lives when nothing says otherwise: the XDG data home on Unix, LOCALAPPDATA on Windows. */
export function defaultDataDir (env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return path.win32.join(env.LOCALAPPDATA ?? path.win32.join(homedir(), 'AppData', 'Local'), 'Constellation')
  if (platform === 'darwin') return path.posix.join(homedir(), 'Library', 'Application Support', 'Constellation')
  return path.posix.join(env.XDG_DATA_HOME ?? path.posix.join(homedir(), '.local', 'share'), 'constellation')
}

const pathText = z.string().min(1, { error: 'must not be empty' })

/** Without a word from the config, a block gets this long to start rendering on top of its per-frame limit. */
export const DEFAULT_TIMEOUT_GRACE_S = 30

/** A duration in whole seconds: a number of seconds, or text such as "90s", "10m" or "1h30m". */
function durationS (minS: number, maxS: number) {
  return z.union([z.int(), z.string()], { error: 'must be a duration such as "90s", "10m" or "1h30m", or a number of seconds' })
    .transform((value, context) => {
      const seconds = typeof value === 'number' ? value : parseDurationS(value)
      if (seconds === undefined || seconds < minS || seconds > maxS) {
        context.addIssue({ code: 'custom', message: `must be a duration from ${formatDurationS(minS)} to ${formatDurationS(maxS)}, such as "90s", "10m" or "1h30m"; got ${JSON.stringify(value)}` })
        return z.NEVER
      }
      return seconds
    })
}

/** `fields` without `keys`; typed so that a key the shape may not have is fine to name. */
function omitFields<T extends object, K extends string> (fields: T, keys: readonly K[]): Omit<T, K> {
  return Object.fromEntries(Object.entries(fields).filter(([key]) => !(keys as readonly string[]).includes(key))) as Omit<T, K>
}

/**
 * The client-table fields `[farm]` seeds: not the name (a top-level key), not the
 * software, which is this node's own consent (`[render] software`), not a farm setting,
 * and not `removed`, which a wrangler states about a node, never the node about itself.
 */
const farmFields = omitFields(typedNodeSettingsFields, ['name', 'software', 'removed'])

const nodeConfigSchema = z.strictObject({
  /** The seed's clientName: how artists see this machine. */
  name: typedNodeSettingsFields.name.unwrap().default(() => hostname()),
  /** The node's own identity and log; apart from the artist's `cr` commands on the same machine. */
  dataDir: pathText.default(() => path.join(defaultDataDir(), 'node')),
  /**
   * Contained render: frames render here first (in the node's own `<scratchDir>/<peer id>/`),
   * then are copied to the target in bulk. Nodes on one host may share it.
   */
  scratchDir: pathText.default(DEFAULT_SCRATCH_ROOT),
  /** The studio's swarm key (`cr key generate`); by default where `cr key generate` writes it. */
  swarmKeyFile: pathText.optional(),
  /** IANA zone for the working-hour schedule; the system's when unset. */
  timeZone: z.string().min(1).optional(),
  render: z.strictObject({
    /** False for a controller peer (an artist's terminal) that never renders. */
    enabled: z.boolean().default(true),
    /** On SIGTERM: hand the block back at once, or finish it first. */
    onShutdown: z.enum(['release', 'finish'], { error: 'must be "release" or "finish"' }).default('release'),
    /** Renderer executables, overriding discovery: maya, nuke, blender, kick, vray. */
    executables: z.partialRecord(z.enum(PROGRAMS, { error: `must be one of ${PROGRAMS.join(', ')}` }), pathText).default({}),
    /**
     * The software this node agrees to run; it claims no block of any other. `command`
     * runs whatever program a job names, so it is left out unless listed here.
     */
    software: z.array(softwareSchema)
      .refine((list) => new Set(list).size === list.length, { error: 'a software is listed twice' })
      .default(() => [...DEFAULT_ACCEPTED_SOFTWARE]),
    /** Whether Blender may run the Python scripts a scene carries (drivers, registered text blocks). */
    blenderScripts: z.boolean({ error: 'must be true or false' }).default(false),
    /**
     * The render timeout for jobs that set none: a block is stopped and fails as retryable
     * past this times its frames (plus timeoutGrace). None when unset.
     */
    timeoutPerFrame: durationS(1, MAX_TIMEOUT_PER_FRAME_S).optional(),
    /** Added to every block's limit for the renderer to start: load the scene, check out a license. */
    timeoutGrace: durationS(0, MAX_TIMEOUT_PER_FRAME_S).default(DEFAULT_TIMEOUT_GRACE_S)
  }).prefault({}),
  /** This node's first entry in the client table. */
  farm: z.strictObject(farmFields).prefault({}),
  /** Passed to the mesh (listen addresses, static peers, mDNS). */
  mesh: z.record(z.string(), z.unknown()).default({})
})

export type NodeConfig = Omit<z.output<typeof nodeConfigSchema>, 'swarmKeyFile' | 'mesh'> & { readonly swarmKeyFile: string, readonly mesh: MeshConfig }
export type NodeConfigInput = z.input<typeof nodeConfigSchema>

/** Validates a config object (from a file, flags, or both merged), naming the first bad field. */
export function resolveNodeConfig (input: unknown, source = 'config'): NodeConfig {
  const parsed = nodeConfigSchema.safeParse(input)
  if (!parsed.success) {
    const [issue] = parsed.error.issues
    throw new NodeConfigError(source, issue?.path.map(String).join('.') || 'config', issue?.message ?? 'rejected')
  }
  const { swarmKeyFile, mesh, ...config } = parsed.data
  return {
    ...config,
    swarmKeyFile: swarmKeyFile ?? path.join(defaultDataDir(), 'swarm.key'),
    mesh: resolveMesh(mesh, source)
  }
}

function resolveMesh (input: Record<string, unknown>, source: string): MeshConfig {
  try {
    return resolveMeshConfig(input)
  } catch (error) {
    if (!(error instanceof InvalidMeshConfigError)) throw error
    throw new NodeConfigError(source, `mesh.${error.field}`, error.why, { cause: error })
  }
}

/** Reads a TOML config file; flags (already parsed) override its top-level and nested fields. */
export async function loadNodeConfig (file: string | undefined, overrides: Record<string, unknown> = {}): Promise<NodeConfig> {
  if (file === undefined) return resolveNodeConfig(overrides, 'flags')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new NodeConfigError(file, 'file', `cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error })
  }
  let fromFile: Record<string, unknown>
  try {
    fromFile = parseToml(text)
  } catch (error) {
    if (!(error instanceof TomlError)) throw error
    throw new NodeConfigError(file, `line ${error.line}`, error.message.split('\n')[0] ?? 'not TOML', { cause: error })
  }
  return resolveNodeConfig(mergeDeep(fromFile, overrides), file)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function mergeDeep (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue
    const current = merged[key]
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value
  }
  return merged
}
