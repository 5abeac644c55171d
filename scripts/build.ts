// `npm run build`: compiles src/ into a fresh dist/, then stamps it with the time the
// compile began. bin/cr.js runs dist/ only while that stamp is at least as new as every
// source file, so a file saved during the compile still counts as changed.
import { rmSync, utimesSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

const startedAt = new Date()
rmSync('dist', { recursive: true, force: true })
const tsc = spawnSync('tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit', shell: process.platform === 'win32' })
if (tsc.status !== 0) process.exit(tsc.status ?? 1)
writeFileSync('dist/.built', '')
utimesSync('dist/.built', startedAt, startedAt)
