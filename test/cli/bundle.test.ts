/**
 * The compiled CLI (`npm run build`, which `npm test` runs first) carries zod's English
 * messages and none of its other languages, which were half of zod's bytes in every
 * process.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'ava'

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url))

/** A message of zod's own per language, as its locale files word it; ASCII, as the bundle escapes the rest. */
const ZOD_MESSAGES = {
  en: 'Invalid input: expected',
  de: 'Eingabe: erwartet',
  fr: 'invalide : instance de',
  es: ': se esperaba instanceof'
} as const

async function bundleText (): Promise<string> {
  const files = (await readdir(DIST)).filter((file) => file.endsWith('.js'))
  const texts = await Promise.all(files.map(async (file) => readFile(path.join(DIST, file), 'utf8')))
  return texts.join('\n')
}

test('the bundle keeps zod\'s English messages and drops its other languages', async (t) => {
  const text = await bundleText()
  t.true(text.includes(ZOD_MESSAGES.en), 'English is what zod configures itself with')
  for (const language of ['de', 'fr', 'es'] as const) t.false(text.includes(ZOD_MESSAGES[language]), `no ${language} messages`)
})
