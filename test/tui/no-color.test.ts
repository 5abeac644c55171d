/** NO_COLOR: statuses are coloured on a terminal that takes colour, and plain once NO_COLOR is set (Ink's chalk does not read it). */
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { execa } from 'execa'

const FRAME = fileURLToPath(new URL('fixtures/colored-frame.tsx', import.meta.url))
const ESCAPE = '\u001B['

async function frame (env: Record<string, string>): Promise<string> {
  // FORCE_COLOR stands for a terminal that takes colour: chalk would colour there.
  const { stdout } = await execa(process.execPath, ['--import', 'tsx', FRAME], { env: { ...env, FORCE_COLOR: '1' }, extendEnv: false })
  return stdout
}

test('a status is coloured where the terminal takes colour, and not once NO_COLOR is set', async (t) => {
  const colored = await frame({ PATH: process.env.PATH ?? '' })
  t.true(colored.includes(`${ESCAPE}31mERROR`), 'red ERROR')
  const plain = await frame({ PATH: process.env.PATH ?? '', NO_COLOR: '1' })
  t.false(plain.includes(ESCAPE))
  t.regex(plain, /^ERROR {5}shot010/)
})
