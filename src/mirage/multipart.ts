/**
 * `multipart/form-data` request bodies (RFC 7578) built here, not by `FormData`: the length of the
 * whole body is known before it is sent, so the request carries `Content-Length` (gateways in front
 * of the provider refuse chunked uploads with 411), while file parts still stream from disk.
 *
 * The length is the sum of the fixed bytes (delimiters, each part's headers, text values) and of
 * each file's size as measured by `stat` just before; `readExactly` holds each file to that size.
 * A file part carries the file's base name and a content type recognised from its bytes (falling
 * back to its extension), so the server sees e.g. `filename="alice.png"`, `Content-Type: image/png`.
 * Text parts carry no `Content-Type`, like a browser's form.
 */
import { Effect, Stream } from "effect"
import { randomBytes } from "node:crypto"
import * as NodePath from "node:path"
import { inspectUpload, readExactly, type UploadFile } from "./localFile.ts"
import type { LocalFileError } from "./MirageError.ts"

/** One field of a multipart body. */
export type FormPart =
  | { readonly _tag: "Text"; readonly name: string; readonly value: string }
  | { readonly _tag: "File"; readonly name: string; readonly path: string }

export const textPart = (name: string, value: string): FormPart => ({ _tag: "Text", name, value })
export const filePart = (name: string, path: string): FormPart => ({ _tag: "File", name, path })

/** A body ready to send: its `Content-Type` (with the boundary), exact length, and bytes. */
export interface MultipartBody {
  readonly contentType: string
  readonly contentLength: number
  /** Re-runnable: each run reads the files again (and checks their sizes again). */
  readonly stream: Stream.Stream<Uint8Array, LocalFileError>
  /** How many file parts it has. */
  readonly files: number
}

/** The body's pieces in order: fixed bytes, or a file's bytes. Adjacent fixed bytes are merged. */
type Segment = { readonly _tag: "Bytes"; readonly bytes: Uint8Array } | { readonly _tag: "File"; readonly file: UploadFile }

/** A fresh boundary: 128 random bits, so it cannot occur in the content by chance. */
export const makeBoundary = (): string => `----ClapperFormBoundary${randomBytes(16).toString("hex")}`

/**
 * A name or file name inside a quoted header parameter, escaped as browsers do (WHATWG HTML,
 * "multipart/form-data encoding"): CR, LF and `"` percent-encoded; other characters as UTF-8.
 */
export const quoted = (value: string): string => `"${value.replace(/\r/g, "%0D").replace(/\n/g, "%0A").replace(/"/g, "%22")}"`

const encoder = new TextEncoder()

/** The headers of a part, from its delimiter to the blank line before its content. */
const partHead = (boundary: string, name: string, file?: UploadFile): string => {
  const disposition =
    file === undefined
      ? `form-data; name=${quoted(name)}`
      : `form-data; name=${quoted(name)}; filename=${quoted(NodePath.basename(file.path))}`
  const type = file === undefined ? "" : `Content-Type: ${file.contentType}\r\n`
  return `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`
}

/** A part whose file, if any, has been measured. */
type Measured =
  | { readonly _tag: "Text"; readonly name: string; readonly value: string }
  | { readonly _tag: "File"; readonly name: string; readonly file: UploadFile }

/** Lays out `parts` as segments, ending with the closing delimiter. */
const layout = (boundary: string, parts: ReadonlyArray<Measured>): ReadonlyArray<Segment> => {
  const segments: Array<Segment> = []
  let text = ""
  const flush = () => {
    if (text !== "") segments.push({ _tag: "Bytes", bytes: encoder.encode(text) })
    text = ""
  }
  for (const part of parts) {
    if (part._tag === "Text") {
      text += `${partHead(boundary, part.name)}${part.value}\r\n`
    } else {
      text += partHead(boundary, part.name, part.file)
      flush()
      segments.push({ _tag: "File", file: part.file })
      text = "\r\n"
    }
  }
  text += `--${boundary}--\r\n`
  flush()
  return segments
}

/**
 * A body stream that is pulled only as fast as the socket takes it. @effect/platform-node writes a
 * stream body chunk by chunk and waits for the socket's `drain` only between the elements of one
 * chunk, never after a chunk's last one (platform-node-shared `writeEffect`): with one buffer per
 * chunk nothing would ever wait, and a slow server would let the whole file pile up in memory.
 * With two per chunk, at most about two buffers are queued beyond the socket's high-water mark.
 */
export const paceToSocket = <E>(stream: Stream.Stream<Uint8Array, E>): Stream.Stream<Uint8Array, E> => Stream.rechunk(stream, 2)

/**
 * The body for `parts`, in order. Every file is measured (and its type sniffed) now, so a missing
 * or unreadable file fails here, before anything is sent; its bytes are read only as the body is.
 */
export const buildForm = (
  operation: string,
  parts: ReadonlyArray<FormPart>,
  boundary: string = makeBoundary()
): Effect.Effect<MultipartBody, LocalFileError> =>
  Effect.gen(function* () {
    const measured = yield* Effect.forEach(
      parts,
      (part): Effect.Effect<Measured, LocalFileError> =>
        part._tag === "File"
          ? Effect.map(inspectUpload(operation, part.path), (file) => ({ _tag: "File", name: part.name, file }))
          : Effect.succeed(part)
    )
    const segments = layout(boundary, measured)
    const contentLength = segments.reduce((n, s) => n + (s._tag === "Bytes" ? s.bytes.byteLength : s.file.size), 0)
    const stream = Stream.flatMap(Stream.fromIterable(segments), (s) =>
      s._tag === "Bytes" ? Stream.succeed(s.bytes) : readExactly(operation, s.file)
    ).pipe(paceToSocket)
    return {
      contentType: `multipart/form-data; boundary=${boundary}`,
      contentLength,
      stream,
      files: segments.filter((s) => s._tag === "File").length
    }
  })
