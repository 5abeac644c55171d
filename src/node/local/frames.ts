/**
 * The local endpoint's wire: CBOR values in frames, each a 4-byte big-endian length and
 * that many bytes. Only processes of the data directory's owner reach the socket (it sits
 * in the private data directory), yet every frame is bounded before it is buffered, so a
 * confused or hostile peer of the socket costs at most one bounded frame of memory.
 */
import type { Socket } from 'node:net'
import { decode, encode } from 'cborg'
import { LocalWireError } from './errors.js'

/** A farm view of thousands of jobs fits many times over; a runaway length does not. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024
const LENGTH_BYTES = 4

export function writeFrame (socket: Socket, value: unknown): void {
  const body = encode(value)
  if (body.length > MAX_FRAME_BYTES) throw new LocalWireError(`a ${body.length}-byte frame is over the ${MAX_FRAME_BYTES}-byte bound`)
  const header = Buffer.alloc(LENGTH_BYTES)
  header.writeUInt32BE(body.length)
  socket.write(Buffer.concat([header, body]))
}

/** Calls `onFrame` with each decoded value as it arrives; a malformed stream ends the connection. */
export function readFrames (socket: Socket, onFrame: (value: unknown) => void): void {
  let pending: Buffer = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    try {
      while (pending.length >= LENGTH_BYTES) {
        const length = pending.readUInt32BE(0)
        if (length > MAX_FRAME_BYTES) throw new LocalWireError(`a frame announced ${length} bytes, over the ${MAX_FRAME_BYTES}-byte bound`)
        if (pending.length < LENGTH_BYTES + length) return
        const body = pending.subarray(LENGTH_BYTES, LENGTH_BYTES + length)
        pending = pending.subarray(LENGTH_BYTES + length)
        onFrame(decode(body, { useMaps: false }))
      }
    } catch (error) {
      socket.destroy(error instanceof LocalWireError ? error : new LocalWireError('a frame is not CBOR', { cause: error }))
    }
  })
}
