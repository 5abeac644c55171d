/** Small helpers every benchmark prints with: medians over runs, and an aligned table. */

export function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1 ? sorted[middle] ?? Number.NaN : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

export function percentile (values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN
}

/** Prints rows of [figure, value, note] under a title, columns aligned. */
export function printTable (title: string, rows: readonly (readonly [string, string, string?])[]): void {
  const width = Math.max(...rows.map(([figure]) => figure.length))
  const valueWidth = Math.max(...rows.map(([, value]) => value.length))
  console.log(`\n${title}`)
  console.log('-'.repeat(title.length))
  for (const [figure, value, note] of rows) {
    console.log(`${figure.padEnd(width)}  ${value.padStart(valueWidth)}${note === undefined ? '' : `  ${note}`}`)
  }
}

export function formatRate (perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')} /s`
}

export function formatMs (ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`
}
