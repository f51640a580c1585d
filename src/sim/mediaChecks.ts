import { Effect, Option } from "effect"
import { audioDurationOfFile } from "../media/audioDuration.ts"
import { describeKinds, imageKinds, audioKinds, type MediaKind, sniffMediaKind, videoKinds } from "../media/mediaKind.ts"
import { limits, MiB } from "../mirage/limits.ts"
import { issue, type ValidationIssue } from "./apiErrors.ts"
import { type Mp4Info, readMp4Info } from "./mp4Info.ts"
import type { UploadedFile } from "./multipartUpload.ts"

/**
 * What the API checks in uploaded files: the kind by its bytes (never its name or declared type),
 * the size limits of `limits.ts`, and what the role needs (a readable, short enough audio track; a
 * 9:16 video for captions).
 */
type Loc = ReadonlyArray<string | number>

const mebibytes = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`

const sizeIssues = (file: UploadedFile, loc: Loc, maxBytes: number, what: string): ReadonlyArray<ValidationIssue> =>
  file.size === 0
    ? [issue(loc, `${what} file is empty`)]
    : file.size > maxBytes
      ? [issue(loc, `${what} file is ${mebibytes(file.size)}, larger than the ${mebibytes(maxBytes)} allowed`)]
      : []

const kindIn = (file: UploadedFile, kinds: ReadonlyArray<MediaKind>): Effect.Effect<Option.Option<MediaKind>> =>
  Effect.map(
    sniffMediaKind(file.head),
    Option.filter((kind) => kinds.includes(kind))
  )

const kindIssue = (loc: Loc, what: string, kinds: ReadonlyArray<MediaKind>) =>
  issue(loc, `${what} must be a ${describeKinds(kinds)} file (recognised by its bytes)`)

/** `image_reference`: PNG or JPEG, within `limits.maxImageBytes`. */
export const checkImage = (file: UploadedFile, loc: Loc): Effect.Effect<ReadonlyArray<ValidationIssue>> =>
  Effect.gen(function* () {
    const sized = sizeIssues(file, loc, limits.maxImageBytes, "Image")
    if (file.size === 0) return sized
    const kind = yield* kindIn(file, imageKinds)
    return [...sized, ...(Option.isNone(kind) ? [kindIssue(loc, "Image", imageKinds)] : [])]
  })

export interface CheckedAudio {
  readonly issues: ReadonlyArray<ValidationIssue>
  readonly seconds: Option.Option<number>
}

/** `audio_reference`: WAV or MP3, within `limits.maxAudioBytes`, readable, ≤ `limits.maxAudioSeconds`. */
export const checkAudio = (file: UploadedFile, loc: Loc): Effect.Effect<CheckedAudio> =>
  Effect.gen(function* () {
    const sized = sizeIssues(file, loc, limits.maxAudioBytes, "Audio")
    if (file.size === 0) return { issues: sized, seconds: Option.none() }
    const kind = yield* kindIn(file, audioKinds)
    if (Option.isNone(kind)) return { issues: [...sized, kindIssue(loc, "Audio", audioKinds)], seconds: Option.none() }
    // Only a complete file (within the size limit) was kept on disk, so only its length can be read.
    if (sized.length > 0) return { issues: sized, seconds: Option.none() }
    const seconds = yield* Effect.option(audioDurationOfFile(file.path))
    if (Option.isNone(seconds)) {
      return { issues: [issue(loc, "Audio duration could not be read: the file is damaged or has no audio frames")], seconds }
    }
    if (seconds.value > limits.maxAudioSeconds) {
      return {
        issues: [issue(loc, `Audio lasts ${seconds.value.toFixed(1)} s, longer than the ${limits.maxAudioSeconds} s allowed`)],
        seconds
      }
    }
    return { issues: [], seconds }
  })

export interface CheckedVideo {
  readonly issues: ReadonlyArray<ValidationIssue>
  readonly kind: Option.Option<MediaKind>
  readonly info: Option.Option<Mp4Info>
}

/** 9:16 within 1% (encoders round odd sizes to even ones). */
export const isPortraitNineSixteen = (info: Mp4Info): boolean => Math.abs(info.width / info.height - 9 / 16) <= 0.01 * (9 / 16)

/** `video`: MP4 or MOV; for captions also ≤ `limits.maxCaptionVideoBytes` and 9:16. */
export const checkVideo = (
  file: UploadedFile,
  loc: Loc,
  rules: { readonly maxBytes: Option.Option<number>; readonly portrait: boolean }
): Effect.Effect<CheckedVideo> =>
  Effect.gen(function* () {
    const sized = Option.match(rules.maxBytes, {
      onNone: () => (file.size === 0 ? [issue(loc, "Video file is empty")] : []),
      onSome: (max) => sizeIssues(file, loc, max, "Video")
    })
    if (file.size === 0) return { issues: sized, kind: Option.none(), info: Option.none() }
    const kind = yield* kindIn(file, videoKinds)
    if (Option.isNone(kind)) return { issues: [...sized, kindIssue(loc, "Video", videoKinds)], kind, info: Option.none() }
    if (sized.length > 0) return { issues: sized, kind, info: Option.none() }
    const info = yield* readMp4Info(file.path)
    if (Option.isNone(info)) {
      return { issues: [issue(loc, "Video dimensions could not be read: no video track found")], kind, info }
    }
    if (rules.portrait && !isPortraitNineSixteen(info.value)) {
      return {
        issues: [issue(loc, `Video must be 9:16 (portrait); it is ${info.value.width}×${info.value.height}`)],
        kind,
        info
      }
    }
    return { issues: [], kind, info }
  })

/** The caption upload limit, per the API description. */
export const captionVideoMaxBytes = limits.maxCaptionVideoBytes
