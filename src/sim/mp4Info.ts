import { Effect, Option } from "effect"
import { open } from "node:fs/promises"

/**
 * Reads what the simulator needs from an MP4/MOV without decoding it: the display size of the
 * first visual track (`tkhd`, corrected for a 90° rotation matrix) and the movie duration
 * (`mvhd`). Only box headers and the `moov` box are read, wherever `moov` sits in the file.
 */
export interface Mp4Info {
  readonly width: number
  readonly height: number
  readonly durationSeconds: number
}

interface Box {
  readonly type: string
  /** Offset of the box's payload (after its header). */
  readonly start: number
  /** Offset just past the box. */
  readonly end: number
}

/** The biggest `moov` read into memory; real ones are kilobytes to a few megabytes. */
const maxMoovBytes = 64 * 1024 * 1024

const boxesIn = (bytes: Uint8Array, from: number, to: number): ReadonlyArray<Box> => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const boxes: Array<Box> = []
  let offset = from
  while (offset + 8 <= to) {
    let size = view.getUint32(offset)
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8))
    let header = 8
    if (size === 1) {
      if (offset + 16 > to) break
      size = Number(view.getBigUint64(offset + 8))
      header = 16
    } else if (size === 0) {
      size = to - offset
    }
    if (size < header || offset + size > to) break
    boxes.push({ type, start: offset + header, end: offset + size })
    offset += size
  }
  return boxes
}

const fixed16 = (view: DataView, offset: number) => view.getInt32(offset) / 65536

const parseMoov = (moov: Uint8Array): Option.Option<Mp4Info> => {
  const view = new DataView(moov.buffer, moov.byteOffset, moov.byteLength)
  let durationSeconds = 0
  let size: Option.Option<{ width: number; height: number }> = Option.none()
  for (const box of boxesIn(moov, 0, moov.length)) {
    if (box.type === "mvhd" && box.start + 32 <= box.end) {
      const version = moov[box.start]
      const timescale = version === 1 ? view.getUint32(box.start + 20) : view.getUint32(box.start + 12)
      const duration = version === 1 ? Number(view.getBigUint64(box.start + 24)) : view.getUint32(box.start + 16)
      if (timescale > 0) durationSeconds = duration / timescale
    }
    if (box.type === "trak" && Option.isNone(size)) {
      const tkhd = boxesIn(moov, box.start, box.end).find((b) => b.type === "tkhd")
      if (tkhd === undefined) continue
      // Matrix and size sit after the version-dependent time fields.
      const matrix = tkhd.start + (moov[tkhd.start] === 1 ? 52 : 40)
      if (matrix + 44 > tkhd.end) continue
      const width = Math.round(fixed16(view, matrix + 36))
      const height = Math.round(fixed16(view, matrix + 40))
      if (width <= 0 || height <= 0) continue
      const a = fixed16(view, matrix)
      const b = fixed16(view, matrix + 4)
      const quarterTurn = Math.abs(a) < 0.5 && Math.abs(Math.abs(b) - 1) < 0.01
      size = Option.some(quarterTurn ? { width: height, height: width } : { width, height })
    }
  }
  return Option.map(size, ({ height, width }) => ({ width, height, durationSeconds }))
}

/** None when the file has no readable `moov` with a visual track. */
export const readMp4Info = (path: string): Effect.Effect<Option.Option<Mp4Info>> =>
  Effect.acquireUseRelease(
    Effect.tryPromise(() => open(path, "r")),
    (handle) =>
      Effect.tryPromise(async () => {
        const { size: fileSize } = await handle.stat()
        const header = new Uint8Array(16)
        let offset = 0
        while (offset + 8 <= fileSize) {
          const { bytesRead } = await handle.read(header, 0, 16, offset)
          if (bytesRead < 8) return Option.none()
          const view = new DataView(header.buffer)
          let size = view.getUint32(0)
          const type = String.fromCharCode(...header.subarray(4, 8))
          let headerSize = 8
          if (size === 1) {
            if (bytesRead < 16) return Option.none()
            size = Number(view.getBigUint64(8))
            headerSize = 16
          } else if (size === 0) {
            size = fileSize - offset
          }
          if (size < headerSize) return Option.none()
          if (type === "moov") {
            const length = Math.min(size - headerSize, fileSize - offset - headerSize)
            if (length > maxMoovBytes) return Option.none()
            const moov = new Uint8Array(length)
            await handle.read(moov, 0, length, offset + headerSize)
            return parseMoov(moov)
          }
          offset += size
        }
        return Option.none<Mp4Info>()
      }),
    (handle) => Effect.promise(() => handle.close())
  ).pipe(Effect.orElseSucceed(() => Option.none<Mp4Info>()))
