import test from 'ava'
import { LINE_SPLIT_CHARS, LineSplitter, OutputTail, clipLine } from '../../src/render/output-lines.js'
import { OUTPUT_LINE_MAX_CHARS, OUTPUT_TAIL_LINES } from '../../src/protocol/vocabulary.js'

function split(chunks: (string | Buffer)[]): string[] {
  const lines: string[] = []
  const splitter = new LineSplitter((l) => lines.push(l))
  for (const c of chunks) splitter.push(c)
  splitter.end()
  return lines
}

test('lines end with \\n, \\r\\n or a bare \\r, across chunk boundaries', (t) => {
  t.deepEqual(split(['a\nb\r\nc\rd']), ['a', 'b', 'c', 'd'])
  t.deepEqual(split(['10%\r20', '%\r30%\r', '\nDone\n']), ['10%', '20%', '30%', 'Done'])
  t.deepEqual(split(['half a li', 'ne\n']), ['half a line'])
})

test('blank lines are dropped and a UTF-8 character split across chunks survives', (t) => {
  const bytes = Buffer.from('Saved: \'/r/ré_0001.png\'\n\n\n')
  const cut = bytes.indexOf(0xc3) + 1
  t.deepEqual(split([bytes.subarray(0, cut), bytes.subarray(cut)]), ["Saved: '/r/ré_0001.png'"])
})

test('an endless line without a newline is cut into pieces', (t) => {
  const lines = split(['x'.repeat(LINE_SPLIT_CHARS * 2 + 5)])
  t.deepEqual(lines.map((l) => l.length), [LINE_SPLIT_CHARS, LINE_SPLIT_CHARS, 5])
})

test('the tail keeps the last lines, each clipped for the log report', (t) => {
  const tail = new OutputTail()
  for (let i = 1; i <= OUTPUT_TAIL_LINES + 20; i++) tail.add(`line ${i}`)
  tail.add('y'.repeat(OUTPUT_LINE_MAX_CHARS * 2))
  const lines = tail.snapshot()
  t.is(lines.length, OUTPUT_TAIL_LINES)
  t.is(lines[0], 'line 22')
  t.is(lines.at(-1)?.length, OUTPUT_LINE_MAX_CHARS)
  t.true(lines.at(-1)?.endsWith('…'))
  t.is(clipLine('short'), 'short')
})
