/**
 * The narrow logger src/render needs. src/node's Logger satisfies it; render does not import
 * node (dependencies point node -> render).
 */
export type RenderLogFields = Readonly<Record<string, unknown>>

export interface RenderLogger {
  debug: (msg: string, fields?: RenderLogFields) => void
  warn: (msg: string, fields?: RenderLogFields) => void
}

export const SILENT_LOGGER: RenderLogger = { debug: () => undefined, warn: () => undefined }
