/**
 * The lint catches a promise left loose (never awaited, voided, or passed where a callback
 * returns nothing), which at run time is an unhandled rejection waiting to happen. Runs
 * the project's own ESLint config over a fixture that breaks the rules on purpose.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { ESLint } from 'eslint'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FIXTURE = fileURLToPath(new URL('../fixtures/lint/loose-promises.ts', import.meta.url))
const RULES = new Set(['@typescript-eslint/no-floating-promises', '@typescript-eslint/no-misused-promises'])

test('every loose promise in the fixture is flagged, by the rule its line names, and nothing careful is', async (t) => {
  const expected = (await readFile(FIXTURE, 'utf8')).split('\n').flatMap((line, index) => {
    const rule = /\/\/ flags: (\S+)$/.exec(line)?.[1]
    return rule === undefined ? [] : [`${index + 1} ${rule}`]
  })
  // The fixture is ignored by `npm run lint`; here it is linted on purpose.
  const [result] = await new ESLint({ cwd: ROOT, ignore: false }).lintFiles([FIXTURE])
  const found = (result?.messages ?? []).filter((message) => message.ruleId !== null && RULES.has(message.ruleId)).map((message) => `${message.line} ${message.ruleId ?? ''}`)
  t.true(expected.length >= 5)
  t.deepEqual(found, expected)
})
