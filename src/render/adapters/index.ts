/** Every renderer adapter, by the software name a job carries. */
import type { Software } from '../../protocol/vocabulary.js'
import { BLENDER_ADAPTER } from './blender.js'
import { COMMAND_ADAPTER } from './command.js'
import { KICK_ADAPTER } from './kick.js'
import { MAYA_ADAPTERS } from './maya.js'
import { NUKE_ADAPTER } from './nuke.js'
import { PROCEDURAL_ADAPTER } from './procedural.js'
import type { RendererAdapter } from './types.js'
import { VRAY_ADAPTER } from './vray.js'

const ADAPTERS: ReadonlyMap<Software, RendererAdapter> = new Map(
  [...MAYA_ADAPTERS, NUKE_ADAPTER, BLENDER_ADAPTER, KICK_ADAPTER, VRAY_ADAPTER, PROCEDURAL_ADAPTER, COMMAND_ADAPTER].map((a) => [a.software, a])
)

export function adapterFor(software: Software): RendererAdapter {
  const adapter = ADAPTERS.get(software)
  // The Software union and this table are both closed; a gap is a bug, not a job error.
  if (adapter === undefined) throw new Error(`no adapter for software ${software}`)
  return adapter
}
