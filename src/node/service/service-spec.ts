/**
 * Service Client (seed 4.0): the node runs as a system service, so it keeps rendering
 * while nobody is logged in. One description of the service, written out in each OS's
 * own format by systemd.ts, launchd.ts and windows.ts.
 */

export const SERVICE_NAME = 'constellation-node'
export const SERVICE_LABEL = 'studio.constellation.node'
export const SERVICE_DESCRIPTION = 'Constellation Render node (peer-to-peer render farm)'

export interface ServiceSpec {
  /** Absolute path of the Node.js binary (>= 22) that runs `cr`. */
  readonly nodePath: string
  /** Absolute path of bin/cr.js. */
  readonly crPath: string
  /** Absolute path of the node's TOML config. */
  readonly configFile: string
  /**
   * The account the service runs as (account.ts picks it: a dedicated user by default).
   * Absent only on Windows, where WinSW then runs it as LocalSystem.
   */
  readonly user?: string
  /** The group it runs as on Linux and macOS: the user's primary group. */
  readonly group?: string
  readonly workingDirectory: string
  /**
   * How long the OS waits after SIGTERM before it kills the node: short when the node
   * releases its block, as long as a block may take when it finishes it first.
   */
  readonly stopTimeoutSec: number
}

/** The command line the service starts. */
export function serviceCommand (spec: ServiceSpec): string[] {
  return [spec.nodePath, spec.crPath, 'node', '--config', spec.configFile]
}
