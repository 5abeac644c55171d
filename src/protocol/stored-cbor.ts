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

/**
 * Texts up to this length are kept, by their bytes, in a small direct-mapped table: an
 * event's map keys, its type, its author and its job id recur across a feed, and
 * returning the string already made skips decoding it, allocating it and (for a key)
 * looking it up in V8's string table. A slot holds the latest text that hashed to it.
 */
const INTERNED_TEXT_BYTES = 64
const INTERNED_SLOTS = 4096
const internedBytes = new Array<Uint8Array | undefined>(INTERNED_SLOTS)
const internedTexts = new Array<string | undefined>(INTERNED_SLOTS)

function sameBytes (known: Uint8Array, bytes: Uint8Array, from: number): boolean {
  for (let index = 0; index < known.length; index++) if (known[index] !== bytes[from + index]) return false
  return true
}

/**
 * A key that names a field (the event's "seq", a record's "claims"), as opposed to a key
 * that is data (a fact's "author#seq", a job id, a peer id).
 */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]{0,31}$/

/**
 * An empty object already in V8's dictionary mode, for a map keyed by data. A plain `{}`
 * takes its first key through the transitions of the root hidden class that every object
 * starts from; a store's block records key some hundreds of thousands of maps by fact id,
 * which fill those transitions, after which V8 gives each new object classes of its own:
 * decoding an event then took five times as long and its garbage outlived the young
 * generation. Deleting a property that is not the last one added turns an object into a
 * dictionary, whose keys make no transitions at all.
 */
function dictionary (): Record<string, unknown> {
  const made: Record<string, unknown> = { first: null, second: null }
  delete made.first
  delete made.second
  return made
}

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
        let map: Record<string, unknown> | null = null
        for (let index = 0; index < argument; index++) {
          const keyAt = this.at
          const key = this.value()
          if (typeof key !== 'string') throw new StoredCborError(keyAt, 'a map key that is not text')
          map ??= FIELD_NAME.test(key) ? {} : dictionary()
          // Assigned, "__proto__" would set the map's prototype rather than be one of its keys.
          if (key === '__proto__') Object.defineProperty(map, key, { value: this.value(), enumerable: true, writable: true, configurable: true })
          else map[key] = this.value()
        }
        return map ?? {}
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

  /** An integer argument, read byte by byte: cheaper than a DataView over bytes LevelDB handed out one by one. */
  private argument (info: number, start: number): number {
    if (info < 24) return info
    const { bytes } = this
    const from = this.at
    switch (info) {
      case 24: this.advance(1, start); return bytes[from] as number
      case 25: this.advance(2, start); return uint16At(bytes, from)
      case 26: this.advance(4, start); return uint32At(bytes, from)
      case 27: {
        this.advance(8, start)
        const value = uint32At(bytes, from) * 2 ** 32 + uint32At(bytes, from + 4)
        if (!Number.isSafeInteger(value)) throw new StoredCborError(start, 'an integer beyond 2^53')
        return value
      }
      default: throw new StoredCborError(start, `additional information ${info} (indefinite or reserved) is never written`)
    }
  }

  private simple (info: number, start: number): unknown {
    const from = this.at
    switch (info) {
      case 20: return false
      case 21: return true
      case 22: return null
      case 25: this.advance(2, start); return halfFloat(uint16At(this.bytes, from))
      case 26: this.advance(4, start); return this.dataView().getFloat32(from)
      case 27: this.advance(8, start); return this.dataView().getFloat64(from)
      default: throw new StoredCborError(start, `simple value ${info} is never written`)
    }
  }

  private text (length: number, start: number): string {
    const from = this.at
    const end = this.advance(length, start)
    if (length > INTERNED_TEXT_BYTES) return this.utf8(from, end, start)
    const { bytes } = this
    let hash = 0x811c9dc5
    for (let index = from; index < end; index++) hash = Math.imul(hash ^ (bytes[index] as number), 0x01000193)
    const slot = (hash >>> 0) & (INTERNED_SLOTS - 1)
    const known = internedBytes[slot]
    if (known !== undefined && known.length === length && sameBytes(known, bytes, from)) return internedTexts[slot] as string
    const text = this.utf8(from, end, start)
    internedBytes[slot] = bytes.slice(from, end)
    internedTexts[slot] = text
    return text
  }

  private utf8 (from: number, end: number, start: number): string {
    try {
      return utf8.decode(this.bytes.subarray(from, end))
    } catch {
      throw new StoredCborError(start, 'text that is not UTF-8')
    }
  }
}

/** The big-endian unsigned 16-bit integer at `from` (the caller checked the bytes are there). */
function uint16At (bytes: Uint8Array, from: number): number {
  return ((bytes[from] as number) << 8) | (bytes[from + 1] as number)
}

/** The big-endian unsigned 32-bit integer at `from` (the caller checked the bytes are there). */
function uint32At (bytes: Uint8Array, from: number): number {
  return (bytes[from] as number) * 0x1000000 + (((bytes[from + 1] as number) << 16) | ((bytes[from + 2] as number) << 8) | (bytes[from + 3] as number))
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
