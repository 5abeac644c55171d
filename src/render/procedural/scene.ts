/**
 * The procedural renderer's scene file: a small JSON document, so that jobs for the built-in
 * renderer look like any other (a scene path that must exist and parse) and the demo can
 * make one on a fresh machine.
 */
import { writeFile } from 'node:fs/promises'
import { z } from 'zod'

export const PROCEDURAL_SCENE_SCHEMA = z.object({
  width: z.number().int().min(1).max(8192).default(160),
  height: z.number().int().min(1).max(8192).default(90),
  /** Artificial time per frame, on top of the real work, to make renders last in demos and tests. */
  frameDelayMs: z.number().int().min(0).max(3_600_000).default(0),
  /** Varies the image between scenes. */
  seed: z.number().int().default(0)
}).strict()

export type ProceduralScene = z.output<typeof PROCEDURAL_SCENE_SCHEMA>

/** Parses a scene file's text; throws (zod or JSON error) when it is not one. */
export function parseProceduralScene(text: string): ProceduralScene {
  return PROCEDURAL_SCENE_SCHEMA.parse(JSON.parse(text))
}

/** Writes a scene file with the given settings (defaults for the rest). */
export async function writeProceduralScene(path: string, scene: z.input<typeof PROCEDURAL_SCENE_SCHEMA> = {}): Promise<void> {
  await writeFile(path, `${JSON.stringify(PROCEDURAL_SCENE_SCHEMA.parse(scene), null, 2)}\n`)
}
