/**
 * Local files the client uploads: what they are (size, content type by their bytes) and their
 * bytes as a stream read from disk as it is consumed, held to the size measured beforehand.
 *
 * A multipart body announces its `Content-Length` before any byte is sent, so an upload measures
 * each file first (`inspectUpload`) and then streams it with `readExactly`, which fails with a
 * `LocalFileError` rather than send more or fewer bytes than were announced: a file that changed in
 * between must never produce a body whose length lies.
 */
import { Effect, Option, Stream } from "effect"
import * as FsPromises from "node:fs/promises"
import * as NodePath from "node:path"
import { type MediaKind, sniffLength, sniffMediaKind } from "../media/mediaKind.ts"
import { LocalFileError } from "./MirageError.ts"

const mimeOfKind: Readonly<Record<MediaKind, string>> = {
  png: "image/png",
  jpeg: "image/jpeg",
  wav: "audio/wav",
  mp3: "audio/mpeg",
  mp4: "video/mp4",
  mov: "video/quicktime"
}

const mimeOfExtension: Readonly<Record<string, string>> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".wav": "audio/wav",
  ".mp3": "audio/mpeg",
  ".mp4": "video/mp4",
  ".m4v": "video/mp4",
  ".mov": "video/quicktime"
}

/** The content type for a media kind (`png` → `image/png`). */
export const mimeType = (kind: MediaKind): string => mimeOfKind[kind]

/** The content type a file name suggests, or `application/octet-stream`. */
export const mimeTypeOfName = (path: string): string => mimeOfExtension[NodePath.extname(path).toLowerCase()] ?? "application/octet-stream"

/** A file system failure in a few words (`no such file`, `permission denied`, …). */
export const describeFsError = (cause: unknown): string => {
  if (typeof cause === "object" && cause !== null) {
    const code: unknown = Reflect.get(cause, "code")
    if (code === "ENOENT") return "no such file"
    if (code === "EACCES" || code === "EPERM") return "permission denied"
    if (code === "EISDIR") return "is a directory"
    const message: unknown = Reflect.get(cause, "message")
    if (typeof message === "string") return message
  }
  return String(cause)
}

/** An Effect over a Node fs promise whose failure is a `LocalFileError` about `path`. */
export const fsEffect = <A>(operation: string, path: string, f: () => Promise<A>): Effect.Effect<A, LocalFileError> =>
  Effect.tryPromise({
    try: f,
    catch: (cause) => new LocalFileError({ operation, path, reason: describeFsError(cause) })
  })

/** `path` opened for reading, closed with the scope. */
const openForReading = (operation: string, path: string) =>
  Effect.acquireRelease(
    fsEffect(operation, path, () => FsPromises.open(path, "r")),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )

const readHead = (operation: string, path: string): Effect.Effect<Uint8Array, LocalFileError> =>
  Effect.scoped(
    Effect.flatMap(openForReading(operation, path), (handle) =>
      fsEffect(operation, path, async () => {
        const buffer = new Uint8Array(sniffLength)
        const { bytesRead } = await handle.read(buffer, 0, sniffLength, 0)
        return buffer.subarray(0, bytesRead)
      })
    )
  )

/** The content type of a file: by its bytes when they are a known media kind, else by its name. */
export const contentTypeOf = (operation: string, path: string): Effect.Effect<string, LocalFileError> =>
  Effect.flatMap(readHead(operation, path), (head) =>
    Effect.map(sniffMediaKind(head), Option.match({ onNone: () => mimeTypeOfName(path), onSome: mimeType }))
  )

/**
 * Files already measured, by path, valid while their size and mtime stay the same: a campaign
 * uploads the same few presenter images thousands of times. A small file's bytes are kept too,
 * so its next upload costs one `stat` instead of an open, reads and a close. Bounded by count
 * and by bytes; the oldest go first.
 */
const measured = new Map<string, { readonly size: number; readonly mtimeMs: number; readonly type: string; readonly bytes?: Uint8Array }>()
const measuredLimit = 10_000
/** Files up to this size are kept in memory once read… */
const keptFileBytes = 1024 * 1024
/** …up to this many bytes in all. */
const keptBytesLimit = 32 * 1024 * 1024
let keptBytes = 0

const remember = (
  path: string,
  entry: { readonly size: number; readonly mtimeMs: number; readonly type: string; readonly bytes?: Uint8Array }
) => {
  const previous = measured.get(path)
  if (previous !== undefined) {
    measured.delete(path)
    keptBytes -= previous.bytes?.byteLength ?? 0
  }
  measured.set(path, entry)
  keptBytes += entry.bytes?.byteLength ?? 0
  for (const [oldest, old] of measured) {
    if (measured.size <= measuredLimit && keptBytes <= keptBytesLimit) break
    measured.delete(oldest)
    keptBytes -= old.bytes?.byteLength ?? 0
  }
}

/** A small file's bytes, read whole: exactly `size` of them, or a `LocalFileError`. */
const readWhole = (operation: string, path: string, size: number): Effect.Effect<Uint8Array, LocalFileError> =>
  Effect.scoped(
    Effect.flatMap(openForReading(operation, path), (handle) =>
      fsEffect(operation, path, async () => {
        // One byte more than expected: a file that grew since `stat` is caught here.
        const buffer = Buffer.allocUnsafe(size + 1)
        let filled = 0
        for (;;) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.byteLength - filled, filled)
          if (bytesRead === 0 || filled + bytesRead === buffer.byteLength) {
            filled += bytesRead
            break
          }
          filled += bytesRead
        }
        return buffer.subarray(0, filled)
      })
    )
  ).pipe(
    Effect.filterOrFail(
      (bytes) => bytes.byteLength === size,
      (bytes) =>
        new LocalFileError({
          operation,
          path,
          reason: `the file changed while it was being read (${size} bytes when measured, ${bytes.byteLength > size ? "longer" : `${bytes.byteLength} bytes`} now); nothing was submitted`
        })
    )
  )

/** A file to upload, as measured before the request. */
export interface UploadFile {
  readonly path: string
  /** Bytes, from `stat`: exactly what `readExactly` will send. */
  readonly size: number
  readonly contentType: string
  /** The file's bytes as measured, for a small file: sent as they are, without reading it again. */
  readonly bytes?: Uint8Array
}

/** Measures a file to upload: a regular file, its size, its content type (cached, see `measured`). */
export const inspectUpload = (operation: string, path: string): Effect.Effect<UploadFile, LocalFileError> =>
  Effect.gen(function* () {
    const stat = yield* fsEffect(operation, path, () => FsPromises.stat(path))
    if (!stat.isFile()) return yield* Effect.fail(new LocalFileError({ operation, path, reason: "not a regular file" }))
    const known = measured.get(path)
    if (known !== undefined && known.size === stat.size && known.mtimeMs === stat.mtimeMs) {
      return { path, size: stat.size, contentType: known.type, ...(known.bytes ? { bytes: known.bytes } : {}) }
    }
    if (stat.size <= keptFileBytes) {
      const bytes = yield* readWhole(operation, path, stat.size)
      const kind = yield* sniffMediaKind(bytes.subarray(0, sniffLength))
      const type = Option.match(kind, { onNone: () => mimeTypeOfName(path), onSome: mimeType })
      remember(path, { size: stat.size, mtimeMs: stat.mtimeMs, type, bytes })
      return { path, size: stat.size, contentType: type, bytes }
    }
    const type = yield* contentTypeOf(operation, path)
    remember(path, { size: stat.size, mtimeMs: stat.mtimeMs, type })
    return { path, size: stat.size, contentType: type }
  })

/**
 * Bytes read from disk per chunk. Four times Node's own file streams' 64 KiB: an upload waits for
 * the socket to drain after each chunk, and fewer, larger chunks send about twice as fast.
 */
export const readChunkBytes = 256 * 1024

/**
 * The first `file.size` bytes of `file.path`, read chunk by chunk as the stream is pulled (memory
 * stays flat whatever the size). Opened when the stream starts, closed when it ends or is
 * interrupted. Fails with a `LocalFileError`, before emitting a byte more or less than `size`,
 * when the file's size is not `size` any more: at opening, mid-way (it ended early) or at the end
 * (it has more).
 */
export const readExactly = (operation: string, file: UploadFile): Stream.Stream<Uint8Array, LocalFileError> => {
  if (file.bytes !== undefined) return Stream.succeed(file.bytes)
  const { path, size } = file
  const changed = (now: string) =>
    new LocalFileError({
      operation,
      path,
      reason: `the file changed while it was being uploaded (${size} bytes when measured, ${now}); nothing was submitted`
    })
  return Stream.unwrapScoped(
    Effect.gen(function* () {
      const handle = yield* openForReading(operation, path)
      const stat = yield* fsEffect(operation, path, () => handle.stat())
      if (stat.size !== size) return yield* Effect.fail(changed(`${stat.size} bytes now`))
      const read = (position: number, length: number) =>
        fsEffect(operation, path, async () => {
          const buffer = Buffer.allocUnsafe(length)
          const { bytesRead } = await handle.read(buffer, 0, length, position)
          return buffer.subarray(0, bytesRead)
        })
      return Stream.unfoldEffect(0, (position) => {
        if (position >= size) {
          // One byte past the end must not exist.
          return Effect.flatMap(read(size, 1), (extra) =>
            extra.byteLength > 0 ? Effect.fail(changed("longer now")) : Effect.succeed(Option.none())
          )
        }
        return Effect.flatMap(read(position, Math.min(readChunkBytes, size - position)), (chunk) =>
          chunk.byteLength === 0
            ? Effect.fail(changed(`it ended after ${position} bytes`))
            : Effect.succeed(Option.some([chunk, position + chunk.byteLength] as const))
        )
      })
    })
  )
}
