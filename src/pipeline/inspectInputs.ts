/**
 * Reads every input once before anything could be sent: it exists, is a regular file, is by its
 * bytes what its role needs (PNG/JPEG image, WAV/MP3 audio), is within the API's limits; and
 * yields the facts the plan needs (content digest for the fingerprint, audio duration for cost).
 */
import { FileSystem, type Path } from "@effect/platform"
import { Effect, Option } from "effect"
import { audioDurationOfFile, audioDurationOfFileBytes } from "../media/audioDuration.ts"
import { audioKinds, describeKinds, imageKinds, sniffLength, sniffMediaKind, type MediaKind } from "../media/mediaKind.ts"
import { limits, MiB } from "../mirage/limits.ts"
import { digestBytes, digestFile } from "../media/digest.ts"
import { PipelineInvalid, type Diagnostic } from "./diagnostic.ts"
import type { InputFile, Job } from "./job.ts"
import { didYouMeanFile } from "./missingFile.ts"

export type InputRole = "image" | "audio"

export interface InputFacts {
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
  readonly kind: MediaKind
  /** Hex SHA-256 of the file's bytes. */
  readonly sha256: string
  /** Audio only: length in seconds. */
  readonly durationSeconds?: number
}

const rules: Record<InputRole, { kinds: ReadonlyArray<MediaKind>; maxBytes: number; noun: string }> = {
  image: { kinds: imageKinds, maxBytes: limits.maxImageBytes, noun: "image" },
  audio: { kinds: audioKinds, maxBytes: limits.maxAudioBytes, noun: "audio" }
}

/** Files up to this size are read whole, once: 16 at a time (see `inspectInputFiles`), so at most 64 MB at once. */
const wholeFileBytes = 4 * MiB

/** Up to `size` bytes from the start of `handle`'s file (fewer when it is shorter). */
const readWhole = (handle: FileSystem.File, size: number) =>
  Effect.gen(function* () {
    const bytes = new Uint8Array(size)
    let filled = 0
    while (filled < size) {
      const read = Number(yield* handle.read(bytes.subarray(filled)))
      if (read === 0) break
      filled += read
    }
    return bytes.subarray(0, filled)
  })

const megabytes = (bytes: number) => `${(bytes / MiB).toFixed(1)} MB`

const inspectOne = (file: InputFile, role: InputRole) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const rule = rules[role]
    const fail = (message: string) => Effect.fail<Diagnostic>({ ...file.origin, message: `${role} "${file.relative}": ${message}` })
    const info = yield* fs.stat(file.path).pipe(Effect.option)
    if (Option.isNone(info)) return yield* fail(`no such file${yield* didYouMeanFile(file.path, file.relative)}`)
    if (info.value.type === "Directory") return yield* fail("is a folder, not a file")
    if (info.value.type !== "File") return yield* fail(`is a ${info.value.type.toLowerCase()}, not a file`)
    const size = Number(info.value.size)
    if (size === 0) return yield* fail("the file is empty")
    if (size > rule.maxBytes) {
      return yield* fail(`is ${megabytes(size)}, over the API's ${megabytes(rule.maxBytes)} limit for ${rule.noun} files`)
    }
    // A small file is read once, whole, and sniffed, hashed and timed in memory; a large one in parts.
    const { head, whole } = yield* Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* fs.open(file.path)
        if (size <= wholeFileBytes) {
          const bytes = yield* readWhole(handle, size)
          return { head: bytes.subarray(0, sniffLength), whole: bytes }
        }
        const start = yield* handle.readAlloc(FileSystem.Size(sniffLength))
        return { head: Option.getOrElse(start, () => new Uint8Array()), whole: undefined }
      })
    )
    const kind = yield* sniffMediaKind(head)
    if (Option.isNone(kind) || !rule.kinds.includes(kind.value)) {
      const actual = Option.match(kind, { onNone: () => "not a recognised media file", onSome: (k) => `a ${k.toUpperCase()} file` })
      return yield* fail(`must be ${describeKinds(rule.kinds)} by its contents, but it is ${actual}`)
    }
    // From memory when the file still held what `stat` said; else read again, as a large one is.
    const complete = whole !== undefined && whole.length === size ? whole : undefined
    const sha256 = complete !== undefined ? digestBytes(complete) : yield* digestFile(file.path)
    let durationSeconds: number | undefined
    if (role === "audio") {
      const duration = yield* (
        complete !== undefined ? audioDurationOfFileBytes(complete, file.path) : audioDurationOfFile(file.path)
      ).pipe(Effect.either)
      if (duration._tag === "Left") return yield* fail(duration.left.message)
      if (duration.right > limits.maxAudioSeconds) {
        return yield* fail(`lasts ${duration.right.toFixed(1)} s, over the ${limits.maxAudioSeconds} s limit`)
      }
      durationSeconds = duration.right
    }
    const facts: InputFacts = {
      path: file.path,
      size,
      mtimeMs: Option.match(info.value.mtime, { onNone: () => 0, onSome: (d) => d.getTime() }),
      kind: kind.value,
      sha256,
      ...(durationSeconds !== undefined ? { durationSeconds } : {})
    }
    return facts
  }).pipe(
    Effect.catchAll((e) =>
      Effect.fail<Diagnostic>(isDiagnostic(e) ? e : { ...file.origin, message: `${role} "${file.relative}": ${e.message}` })
    )
  )

/** Key of `inspectInputs`' result: the same file may be checked as an image and as an audio. */
export const factsKey = (role: InputRole, path: string) => `${role}\0${path}`

const isDiagnostic = (e: unknown): e is Diagnostic => typeof e === "object" && e !== null && "line" in e && "column" in e

/** One input file to read, in the role it plays. */
export interface WantedInput {
  readonly file: InputFile
  readonly role: InputRole
}

/** The input files of `jobs`, in order (`inspectInputFiles` reads each once per role): made as they are read, not kept. */
export function* inputsOf(jobs: Iterable<Job>): Generator<WantedInput> {
  for (const job of jobs) {
    yield { file: job.image, role: "image" }
    // a spoken voice track has no file yet
    if (job.audio) yield { file: job.audio, role: "audio" }
  }
}

/** Facts per input path and role, and a diagnostic for every bad input (once per file and role). Never fails. */
export const inspectInputFiles = (
  inputs: Iterable<WantedInput>,
  options: { readonly concurrency?: number } = {}
): Effect.Effect<
  { readonly facts: ReadonlyMap<string, InputFacts>; readonly diagnostics: ReadonlyArray<Diagnostic> },
  never,
  FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function* () {
    const wanted = new Map<string, WantedInput>()
    for (const input of inputs) {
      const key = factsKey(input.role, input.file.path)
      if (!wanted.has(key)) wanted.set(key, input)
    }
    const results = yield* Effect.forEach(
      [...wanted.entries()],
      ([key, { file, role }]) => Effect.map(Effect.either(inspectOne(file, role)), (result) => [key, result] as const),
      { concurrency: options.concurrency ?? 16 }
    )
    return {
      facts: new Map(results.flatMap(([key, r]) => (r._tag === "Right" ? [[key, r.right] as const] : []))),
      diagnostics: results.flatMap(([, r]) => (r._tag === "Left" ? [r.left] : []))
    }
  })

/** Facts per input path and role; every bad input is reported (once per file and role). */
export const inspectInputs = (
  jobs: ReadonlyArray<Job>,
  options: { readonly concurrency?: number } = {}
): Effect.Effect<ReadonlyMap<string, InputFacts>, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(inspectInputFiles(inputsOf(jobs), options), ({ facts, diagnostics }) =>
    diagnostics.length > 0 ? Effect.fail(new PipelineInvalid({ diagnostics })) : Effect.succeed(facts)
  )
