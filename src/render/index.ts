/**
 * src/render's public face for the node layer: render one block end to end with
 * renderBlock(), and the types around it. Knows nothing of libp2p or the farm state.
 */
export { renderBlock } from './render-block.js'
export type { RenderOptions } from './render-block.js'
export { DEFAULT_SCRATCH_ROOT, removeStaleScratch } from './contained.js'
export { sweepLeftoverRenders } from './render-groups.js'
export type { SweptGroup } from './render-groups.js'
export { findExecutable, localHost } from './discovery.js'
export type { DiscoveryHost } from './discovery.js'
export { FAILURE_REASONS, FATAL_REASONS, failureKindOf } from './result.js'
export type { FailureReason, FrameTime, RenderAborted, RenderFailed, RenderFinished, RenderProgress, RenderResult } from './result.js'
export { PROGRAMS, taskFrames, validateTask } from './task.js'
export type { ExecutableOverrides, FrameSpec, Program, RenderLimits, RenderTask, RenderTimeout } from './task.js'
export type { RenderLogger } from './logger.js'
export { writeProceduralScene } from './procedural/scene.js'
