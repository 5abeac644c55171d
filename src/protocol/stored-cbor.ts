/**
 * A reader for the CBOR this project writes itself (encodeCanonical): maps with text keys,
 * arrays, safe integers, floats, text, bytes, booleans and null, and nothing else.
 *
 * It is for bytes a store has already vouched for: a seal's digest or a hash chain up to
 * a sealed link proves they are exactly what the store wrote, and everything it wrote
 * passed the strict decoder (decodeCanonical) on its way in. So this reader does not
 * re-check canonical form; it only refuses what it cannot read (a truncated item, a tag,
 * a non-text map key), throwing a StoredCborError. Reading a million stored events is
 * what a report or a restart does, and a general tokenizing decoder spends most of that
 * time building tokens that die at once; this builds only the value.
 */

/** Bytes that are not CBOR of the shape encodeCanonical writes. */
export class StoredCborError extends Error {
  constructor (readonly offset: number, why: string) {
    super(`unreadable CBOR at byte ${offset}: ${why}`)
    this.name = 'StoredCborError'
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
/** Below this length a text is read a char code at a time: cheaper than a TextDecoder call. */
const SHORT_TEXT_BYTES = 24

class Reader {
  private at = 0
  private view: DataView | null = null

  constructor (private readonly bytes: Uint8Array) {}

  value (): unknown {
    const start = this.at
    const head = this.byte()
    const major = head >> 5
    const info = head & 0x1f
    if (major === 7) return this.simple(info, start)
    const argument = this.argument(info, start)
    switch (major) {
      case 0: return argument
      case 1: return -1 - argument
      case 2: return this.byteString(argument, start)
      case 3: return this.text(argument, start)
      case 4: {
        const array = new Array<unknown>(argument)
        for (let index = 0; index < argument; index++) array[index] = this.value()
        return array
      }
      case 5: {
        const map: Record<string, unknown> = {}
        for (let index = 0; index < argument; index++) {
          const keyAt = this.at
          const key = this.value()
          if (typeof key !== 'string') throw new StoredCborError(keyAt, 'a map key that is not text')
          map[key] = this.value()
        }
        return map
      }
      default: throw new StoredCborError(start, `major type ${major} (a tag) is never written`)
    }
  }

  end (): void {
    if (this.at !== this.bytes.length) throw new StoredCborError(this.at, `${this.bytes.length - this.at} bytes after the value`)
  }

  private byte (): number {
    const byte = this.bytes[this.at]
    if (byte === undefined) throw new StoredCborError(this.at, 'the bytes end inside an item')
    this.at++
    return byte
  }

  /** Moves past `length` bytes of content and returns where they end. */
  private advance (length: number, start: number): number {
    const end = this.at + length
    if (end > this.bytes.length) throw new StoredCborError(start, 'the bytes end inside an item')
    this.at = end
    return end
  }

  /**
   * A view into the read bytes, not a copy: a million events hold two byte strings each,
   * and a copy is an ArrayBuffer apiece, whose allocation (and the collections its
   * external memory triggers) cost more than decoding the rest. A plain Uint8Array, as
   * the strict decoder gives, even when the bytes came in a Buffer.
   */
  private byteString (length: number, start: number): Uint8Array {
    const from = this.at
    this.advance(length, start)
    return new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + from, length)
  }

  private dataView (): DataView {
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength)
    return this.view
  }

  private argument (info: number, start: number): number {
    if (info < 24) return info
    const view = this.dataView()
    const from = this.at
    switch (info) {
      case 24: this.advance(1, start); return view.getUint8(from)
      case 25: this.advance(2, start); return view.getUint16(from)
      case 26: this.advance(4, start); return view.getUint32(from)
      case 27: {
        this.advance(8, start)
        const value = view.getUint32(from) * 2 ** 32 + view.getUint32(from + 4)
        if (!Number.isSafeInteger(value)) throw new StoredCborError(start, 'an integer beyond 2^53')
        return value
      }
      default: throw new StoredCborError(start, `additional information ${info} (indefinite or reserved) is never written`)
    }
  }

  private simple (info: number, start: number): unknown {
    const view = this.dataView()
    const from = this.at
    switch (info) {
      case 20: return false
      case 21: return true
      case 22: return null
      case 25: this.advance(2, start); return halfFloat(view.getUint16(from))
      case 26: this.advance(4, start); return view.getFloat32(from)
      case 27: this.advance(8, start); return view.getFloat64(from)
      default: throw new StoredCborError(start, `simple value ${info} is never written`)
    }
  }

  private text (length: number, start: number): string {
    const from = this.at
    const end = this.advance(length, start)
    if (length < SHORT_TEXT_BYTES) {
      let text = ''
      for (let index = from; index < end; index++) {
        const code = this.bytes[index] as number
        // Not ASCII: the decoder knows UTF-8 and its errors.
        if (code >= 0x80) return this.utf8(from, end, start)
        text += String.fromCharCode(code)
      }
      return text
    }
    return this.utf8(from, end, start)
  }

  private utf8 (from: number, end: number, start: number): string {
    try {
      return utf8.decode(this.bytes.subarray(from, end))
    } catch {
      throw new StoredCborError(start, 'text that is not UTF-8')
    }
  }
}

/** IEEE 754 half precision, which canonical CBOR uses for floats that fit it. */
function halfFloat (half: number): number {
  const sign = (half & 0x8000) !== 0 ? -1 : 1
  const exponent = (half >> 10) & 0x1f
  const fraction = half & 0x3ff
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024)
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024)
}

/** The value of stored bytes that encodeCanonical wrote; throws StoredCborError otherwise. */
export function decodeStored (bytes: Uint8Array): unknown {
  const reader = new Reader(bytes)
  const value = reader.value()
  reader.end()
  return value
}
