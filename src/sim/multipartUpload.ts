import { FileSystem, HttpServerRequest } from "@effect/platform"
import type { Multipart } from "@effect/platform"
import { Data, Effect, Stream } from "effect"
import { createHash } from "node:crypto"
import { sniffLength } from "../media/mediaKind.ts"

/**
 * Reads a multipart upload as it streams in: every file part goes straight to disk (never whole
 * into memory) while its size, SHA-256 and first bytes (for sniffing) are taken on the way.
 * Bytes beyond a field's cap are counted but not kept, so an oversized upload is reported with its
 * real size without filling the disk. Files are named by arrival, never by the client's file name.
 */
export interface UploadedFile {
  readonly field: string
  readonly filename: string
  /** Holds the first `min(size, cap)` bytes. */
  readonly path: string
  readonly size: number
  readonly sha256: string
  readonly head: Uint8Array
}

export interface UploadedField {
  readonly field: string
  readonly value: string
}

export interface UploadedForm {
  readonly fields: ReadonlyArray<UploadedField>
  readonly files: ReadonlyArray<UploadedFile>
}

/** The body is not a readable multipart form at all. */
export class UploadRejected extends Data.TaggedError("UploadRejected")<{ readonly reason: string }> {}

const describeMultipartError = (error: Multipart.MultipartError): string => {
  switch (error.reason) {
    case "FieldTooLarge":
      return "A form field is too large"
    case "FileTooLarge":
    case "BodyTooLarge":
      return "The request body is too large"
    case "TooManyParts":
      return "The form has too many parts"
    case "Parse":
      return "The multipart body could not be parsed"
    case "InternalError":
      return "The upload could not be stored"
  }
}

const saveFile = (fs: FileSystem.FileSystem, part: Multipart.File, path: string, cap: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const handle = yield* fs.open(path, { flag: "w" })
      const hash = createHash("sha256")
      const head = new Uint8Array(sniffLength)
      let headLength = 0
      let size = 0
      yield* Stream.runForEach(part.content, (chunk) =>
        Effect.suspend(() => {
          hash.update(chunk)
          if (headLength < head.length) {
            const take = Math.min(head.length - headLength, chunk.length)
            head.set(chunk.subarray(0, take), headLength)
            headLength += take
          }
          const keep = Math.max(0, Math.min(chunk.length, cap - size))
          size += chunk.length
          return keep > 0 ? handle.writeAll(chunk.subarray(0, keep)) : Effect.void
        })
      )
      const file: UploadedFile = {
        field: part.key,
        filename: part.name,
        path,
        size,
        sha256: hash.digest("hex"),
        head: head.slice(0, headLength)
      }
      return file
    })
  )

/**
 * Reads the current request's multipart body, writing file parts under `dir` and keeping at most
 * `capOf(field)` bytes of each (fields the route does not know get 0: drained, not stored).
 */
export const readMultipartUpload = (
  dir: string,
  capOf: (field: string) => number
): Effect.Effect<UploadedForm, UploadRejected, HttpServerRequest.HttpServerRequest | FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const contentType = request.headers["content-type"] ?? ""
    if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
      return yield* new UploadRejected({ reason: "Expected a multipart/form-data body" })
    }
    const fs = yield* FileSystem.FileSystem
    const fields: Array<UploadedField> = []
    const files: Array<UploadedFile> = []
    yield* Stream.runForEach(request.multipartStream, (part) => {
      if (part._tag === "Field") {
        fields.push({ field: part.key, value: part.value })
        return Effect.void
      }
      return Effect.map(saveFile(fs, part, `${dir}/part-${files.length}`, capOf(part.key)), (file) => {
        files.push(file)
      })
    }).pipe(
      Effect.catchTags({
        MultipartError: (error) => Effect.fail(new UploadRejected({ reason: describeMultipartError(error) })),
        SystemError: () => Effect.fail(new UploadRejected({ reason: "The upload could not be stored" })),
        BadArgument: () => Effect.fail(new UploadRejected({ reason: "The upload could not be stored" }))
      })
    )
    const form: UploadedForm = { fields, files }
    return form
  })
