#!/usr/bin/env node
// The `cr` command. Runs the compiled CLI when the package is built (npm run build);
// in a development checkout it runs the TypeScript sources through tsx.
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/cli.js', import.meta.url)
if (existsSync(compiled)) {
  const { main } = await import(compiled.href)
  await main(process.argv)
} else {
  const { tsImport } = await import('tsx/esm/api')
  const { main } = await tsImport('../src/cli.ts', import.meta.url)
  await main(process.argv)
}
