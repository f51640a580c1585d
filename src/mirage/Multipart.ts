/**
 * Multipart request bodies whose file parts stream from disk.
 *
 * A file part is a file-backed `Blob` (`fs.openAsBlob`, Node ≥ 19.8): nothing is read into memory
 * up front, and @effect/platform-node pipes the `FormData` to the socket as it is read. Each part
 * carries the file's base name and a content type recognised from its bytes (falling back to its
 * extension), so the server sees e.g. `filename="alice.png"`, `Content-Type: image/png`.
 */
import { Effect, Option } from "effect"
import * as Fs from "node:fs"
import * as FsPromises from "node:fs/promises"
import * as NodePath from "node:path"
import { type MediaKind, sniffLength, sniffMediaKind } from "../media/mediaKind.ts"
import { LocalFileError } from "./MirageError.ts"

/** One field of a multipart body. */
export type FormPart =
  | { readonly _tag: "Text"; readonly name: string; readonly value: string }
  | { readonly _tag: "File"; readonly name: string; readonly path: string }

export const textPart = (name: string, value: string): FormPart => ({ _tag: "Text", name, value })
export const filePart = (name: string, path: string): FormPart => ({ _tag: "File", name, path })

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
export const mimeTypeOfName = (path: string): string =>
  mimeOfExtension[NodePath.extname(path).toLowerCase()] ?? "application/octet-stream"

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

const readHead = (operation: string, path: string): Effect.Effect<Uint8Array, LocalFileError> =>
  Effect.acquireUseRelease(
    fsEffect(operation, path, () => FsPromises.open(path, "r")),
    (handle) =>
      fsEffect(operation, path, async () => {
        const buffer = new Uint8Array(sniffLength)
        const { bytesRead } = await handle.read(buffer, 0, sniffLength, 0)
        return buffer.subarray(0, bytesRead)
      }),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )

/** The content type of a file: by its bytes when they are a known media kind, else by its name. */
export const contentTypeOf = (operation: string, path: string): Effect.Effect<string, LocalFileError> =>
  Effect.flatMap(readHead(operation, path), (head) =>
    Effect.map(sniffMediaKind(head), Option.match({ onNone: () => mimeTypeOfName(path), onSome: mimeType })))

/**
 * Content types already sniffed, by path, valid while the file's size and mtime stay the same: a
 * campaign uploads the same few presenter images thousands of times. Bounded; cleared when full.
 */
const sniffed = new Map<string, { readonly size: number; readonly mtimeMs: number; readonly type: string }>()
const sniffedLimit = 10_000

/** A file-backed Blob for `path` (streams from disk when the body is sent). */
export const fileBlob = (operation: string, path: string): Effect.Effect<Blob, LocalFileError> =>
  Effect.gen(function*() {
    const stat = yield* fsEffect(operation, path, () => FsPromises.stat(path))
    if (!stat.isFile()) return yield* Effect.fail(new LocalFileError({ operation, path, reason: "not a regular file" }))
    const known = sniffed.get(path)
    let type: string
    if (known !== undefined && known.size === stat.size && known.mtimeMs === stat.mtimeMs) {
      type = known.type
    } else {
      type = yield* contentTypeOf(operation, path)
      if (sniffed.size >= sniffedLimit) sniffed.clear()
      sniffed.set(path, { size: stat.size, mtimeMs: stat.mtimeMs, type })
    }
    return yield* fsEffect(operation, path, () => Fs.openAsBlob(path, { type }))
  })

/** The `FormData` for `parts`, in order; file parts are named after the file's base name. */
export const buildForm = (operation: string, parts: ReadonlyArray<FormPart>): Effect.Effect<FormData, LocalFileError> =>
  Effect.gen(function*() {
    const form = new FormData()
    for (const part of parts) {
      if (part._tag === "Text") {
        form.append(part.name, part.value)
      } else {
        const blob = yield* fileBlob(operation, part.path)
        form.append(part.name, blob, NodePath.basename(part.path))
      }
    }
    return form
  })
