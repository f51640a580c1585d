/**
 * Tiny, valid input files made in code: distinct bytes give distinct fingerprints, and a WAV's
 * duration is exact (samples ÷ rate), so a benchmark knows each job's simulated render time.
 */
import { deflateSync } from "node:zlib"

/**
 * A mono 8-bit PCM WAV of `seconds` (rounded to whole samples) at `rate` Hz. The first four
 * samples carry `tag` (little-endian), so files made with distinct tags always differ in bytes:
 * two jobs with equal audio would share one render, and a benchmark must not stumble on that.
 */
export const makeWav = (seconds: number, frequency: number, rate = 8000, tag = 0): Uint8Array => {
  const samples = Math.round(seconds * rate)
  const bytes = new Uint8Array(44 + samples)
  const view = new DataView(bytes.buffer)
  const ascii = (offset: number, text: string) => [...text].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)))
  ascii(0, "RIFF")
  view.setUint32(4, 36 + samples, true)
  ascii(8, "WAVE")
  ascii(12, "fmt ")
  view.setUint32(16, 16, true)
  view.setUint16(20, 1, true) // PCM
  view.setUint16(22, 1, true) // mono
  view.setUint32(24, rate, true)
  view.setUint32(28, rate, true) // byte rate
  view.setUint16(32, 1, true) // block align
  view.setUint16(34, 8, true) // bits per sample
  ascii(36, "data")
  view.setUint32(40, samples, true)
  for (let i = 0; i < samples; i++) bytes[44 + i] = 128 + Math.round(100 * Math.sin((2 * Math.PI * frequency * i) / rate))
  if (samples >= 4) view.setUint32(44, tag >>> 0, true)
  return bytes
}

/** The exact duration of `makeWav(seconds, _, rate)`. */
export const wavSeconds = (seconds: number, rate = 8000): number => Math.round(seconds * rate) / rate

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (const b of bytes) c = (crcTable[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const chunk = (type: string, data: Uint8Array): Buffer => {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data])
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/** A 9×16 RGB PNG of one colour: `n` picks the colour, so every `n` < 2^24 gives distinct bytes. */
export const makePng = (n: number, width = 9, height = 16): Uint8Array => {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth
  header[9] = 2 // RGB
  const [r, g, b] = [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
  const row = Buffer.alloc(1 + width * 3)
  for (let x = 0; x < width; x++) row.set([r, g, b], 1 + x * 3)
  const raw = Buffer.concat(Array.from({ length: height }, () => row))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array())
  ])
}
