/**
 * Typed errors of src/render. Each carries the FailureReason it maps to, so renderBlock()
 * can turn the expected ones into a failed result; anything else is a bug and surfaces.
 */
import type { FailureReason } from './result.js'

export abstract class RenderError extends Error {
  abstract readonly reason: FailureReason
}

/** The task names a frame range, image name or limit that cannot be rendered. */
export class InvalidTaskError extends RenderError {
  override readonly name = 'InvalidTaskError'
  readonly reason = 'usage'
}

/** The adapter cannot express what the task asks (an unknown placeholder, a format it cannot write). */
export class UnsupportedOptionError extends RenderError {
  override readonly name = 'UnsupportedOptionError'
  readonly reason = 'usage'
  constructor(readonly software: string, message: string) {
    super(`${software}: ${message}`)
  }
}

/** No executable for the program on this node, neither overridden nor discovered. */
export class ExecutableNotFoundError extends RenderError {
  override readonly name = 'ExecutableNotFoundError'
  readonly reason = 'executable-missing'
  constructor(readonly program: string, readonly searched: readonly string[]) {
    super(`no ${program} executable found (looked in ${searched.length > 0 ? searched.join(', ') : 'PATH'}); set the node's ${program} path`)
  }
}

/** The scene file is absent or unreadable before the renderer even starts. */
export class SceneUnavailableError extends RenderError {
  override readonly name = 'SceneUnavailableError'
  constructor(readonly scenePath: string, readonly reason: 'scene-missing' | 'scene-unreadable', readonly code: string) {
    super(`scene ${scenePath} ${reason === 'scene-missing' ? 'does not exist' : 'cannot be read'} (${code})`)
  }
}

/** Copying frames to the target failed; nothing partial was left there. */
export class TargetWriteError extends RenderError {
  override readonly name = 'TargetWriteError'
  constructor(readonly targetDir: string, readonly reason: 'disk-full' | 'target-permission' | 'io-error', readonly code: string, detail: string) {
    super(`cannot write frames to ${targetDir}: ${detail} (${code})`)
  }
}

/** The node's own scratch folder cannot be made or written: this node's problem, retried elsewhere. */
export class ScratchError extends RenderError {
  override readonly name = 'ScratchError'
  readonly reason: 'disk-full' | 'io-error'
  constructor(readonly scratchDir: string, readonly code: string, detail: string) {
    super(`cannot use scratch folder ${scratchDir}: ${detail} (${code})`)
    this.reason = code === 'ENOSPC' || code === 'EDQUOT' ? 'disk-full' : 'io-error'
  }
}
