/**
 * The procedural renderer's picture: a plasma with a moving disc, different on every frame,
 * computed a band of rows at a time so that threads can share a frame.
 */
import type { ProceduralScene } from './scene.js'

/** RGBA pixels of rows [y0, y1) of the given frame. */
export function renderRows(scene: ProceduralScene, frame: number, y0: number, y1: number): Uint8Array<ArrayBuffer> {
  const { width, height } = scene
  const pixels = new Uint8Array((y1 - y0) * width * 4)
  const t = frame * 0.25 + scene.seed * 1.7
  const discX = width * (0.5 + 0.35 * Math.cos(t))
  const discY = height * (0.5 + 0.35 * Math.sin(t * 1.3))
  const discR = Math.min(width, height) * 0.18
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < width; x++) {
      const u = (x / width) * 8
      const v = (y / height) * 8
      const value = Math.sin(u + t) + Math.sin((v + t) * 1.3) + Math.sin((u + v) * 0.7 + t * 0.7) + Math.sin(Math.hypot(u - 4, v - 4) - t)
      const inDisc = Math.hypot(x - discX, y - discY) < discR
      const i = ((y - y0) * width + x) * 4
      pixels[i] = inDisc ? 255 : 127 + 127 * Math.sin(value * Math.PI * 0.5)
      pixels[i + 1] = inDisc ? 220 : 127 + 127 * Math.sin(value * Math.PI * 0.5 + 2.1)
      pixels[i + 2] = inDisc ? 60 : 127 + 127 * Math.sin(value * Math.PI * 0.5 + 4.2)
      pixels[i + 3] = 255
    }
  }
  return pixels
}
