/**
 * The compiled CLI (`npm run build`, which `npm test` runs first) carries zod's English
 * messages and none of its other languages, which were half of zod's bytes in every
 * process; and what every command loads before it runs leaves out string-width, whose
 * Unicode tables cost each command tens of ms to build though most print no table.
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

/** Every file of dist/ that loading `entry` evaluates before any code runs: its static imports, followed. */
async function staticallyLoaded (entry: string): Promise<Set<string>> {
  const loaded = new Set<string>()
  const pending = [entry]
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (loaded.has(file)) continue
    loaded.add(file)
    const text = await readFile(path.join(DIST, file), 'utf8')
    // esbuild writes static imports as `from"./x.js"` or `import"./x.js"`; dynamic ones as `import("./x.js")`.
    for (const [, imported] of text.matchAll(/(?:from|import)\s*"\.\/([^"]+\.js)"/g)) if (imported !== undefined) pending.push(imported)
  }
  return loaded
}

/** string-width's emoji test, as its source writes it: in whichever chunk holds string-width. */
const STRING_WIDTH_MARKER = '\\p{RGI_Emoji}'

test('a command loads string-width only when it prints a table', async (t) => {
  const files = (await readdir(DIST)).filter((file) => file.endsWith('.js'))
  const holding = await Promise.all(files.map(async (file) => (await readFile(path.join(DIST, file), 'utf8')).includes(STRING_WIDTH_MARKER) ? file : null))
  const withStringWidth = holding.filter((file) => file !== null)
  t.true(withStringWidth.length > 0, 'string-width is in the bundle, for tables and the TUI')
  const loaded = await staticallyLoaded('cli.js')
  t.true(loaded.size > 1, 'the CLI has static imports to follow')
  for (const file of withStringWidth) t.false(loaded.has(file), `${file} holds string-width and loads with every command`)
})
