/**
 * Turns a renderer's byte stream into lines. Renderers end lines with \n, \r\n or a bare \r
 * (progress bars redrawn in place), and may print megabytes without a newline, so lines are
 * capped. OutputTail keeps the last lines for the log report.
 */
import { StringDecoder } from 'node:string_decoder'
import { OUTPUT_LINE_MAX_CHARS, OUTPUT_TAIL_LINES } from '../protocol/vocabulary.js'

/** A line longer than this is cut into pieces, so one endless progress bar cannot eat memory. */
export const LINE_SPLIT_CHARS = 16_384

/** Splits chunks into lines on \n, \r\n and \r; call end() for the last unterminated line. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8')
  private pending = ''
  /** A \r ended the last chunk: a \n starting the next one belongs to it. */
  private lastWasCr = false

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk)
    if (this.lastWasCr && text.startsWith('\n')) text = text.slice(1)
    this.lastWasCr = false
    let from = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      this.emit(this.pending + text.slice(from, i))
      this.pending = ''
      if (c === 13) {
        if (i + 1 === text.length) this.lastWasCr = true
        else if (text.charCodeAt(i + 1) === 10) i++
      }
      from = i + 1
    }
    this.pending += text.slice(from)
    while (this.pending.length > LINE_SPLIT_CHARS) {
      this.emit(this.pending.slice(0, LINE_SPLIT_CHARS))
      this.pending = this.pending.slice(LINE_SPLIT_CHARS)
    }
  }

  end(): void {
    const rest = this.pending + this.decoder.end()
    this.pending = ''
    if (rest.length > 0) this.emit(rest)
  }

  private emit(line: string): void {
    // Blank lines (and the empty "line" between \r redraws) carry nothing for parsing or the log.
    if (line.trim().length > 0) this.onLine(line)
  }
}

/** The last OUTPUT_TAIL_LINES lines, each cut to OUTPUT_LINE_MAX_CHARS, as the log report keeps them. */
export class OutputTail {
  private readonly lines: string[] = []

  constructor(private readonly maxLines = OUTPUT_TAIL_LINES) {}

  add(line: string): void {
    this.lines.push(clipLine(line))
    if (this.lines.length > this.maxLines) this.lines.shift()
  }

  snapshot(): string[] {
    return [...this.lines]
  }
}

export function clipLine(line: string): string {
  return line.length <= OUTPUT_LINE_MAX_CHARS ? line : `${line.slice(0, OUTPUT_LINE_MAX_CHARS - 1)}…`
}
