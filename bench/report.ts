/**
 * What every benchmark reports with: medians and percentiles over runs, its own detailed
 * tables, and the handful of figures it hands to the summary (bench/results.ts). A bench
 * returns its tables rather than printing them, so bench/index.ts prints each one and
 * gathers the summary from all of them.
 */

/** One line of a bench's own table: figure, value, and an optional note. */
export type Row = readonly [string, string, string?]

export interface BenchTable {
  readonly title: string
  readonly rows: readonly Row[]
}

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
export function printTable (title: string, rows: readonly Row[]): void {
  const width = Math.max(...rows.map(([figure]) => figure.length))
  const valueWidth = Math.max(...rows.map(([, value]) => value.length))
  console.log(`\n${title}`)
  console.log('-'.repeat(title.length))
  for (const [figure, value, note] of rows) {
    console.log(`${figure.padEnd(width)}  ${value.padStart(valueWidth)}${note === undefined ? '' : `  ${note}`}`)
  }
}

export function printTables (tables: readonly BenchTable[]): void {
  for (const { title, rows } of tables) printTable(title, rows)
}

export function formatRate (perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')} /s`
}

export function formatMs (ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`
}
