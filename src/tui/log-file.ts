/**
 * While the TUI owns the terminal nothing else may write to it: the mesh's and the nodes'
 * records go to a file under the data directory instead, which the help overlay names.
 */
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { createLogger, jsonLineSink, levelFromEnv, type Logger } from '../node/log.js'

export const TUI_LOG_FILE = 'tui.log'

export interface LogFile {
  readonly file: string
  readonly logger: (component: string) => Logger
  readonly close: () => Promise<void>
}

/** JSON lines appended to `<dataDir>/tui.log`, at CR_LOG_LEVEL (info by default). */
export async function logFileIn (dataDir: string): Promise<LogFile> {
  await mkdir(dataDir, { recursive: true })
  const file = path.join(dataDir, TUI_LOG_FILE)
  const stream = createWriteStream(file, { flags: 'a' })
  const sink = jsonLineSink(stream)
  return {
    file,
    logger: (component) => createLogger(component, { sink, level: levelFromEnv(process.env) }),
    close: async () => new Promise<void>((resolve) => { stream.end(resolve) })
  }
}
