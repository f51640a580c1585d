import { fileTypeFromBuffer } from "file-type"
import { Effect, Option } from "effect"

/** The file kinds the Mirage API takes or returns, recognised by their bytes, never by their name. */
export type MediaKind = "png" | "jpeg" | "wav" | "mp3" | "mp4" | "mov"

export const imageKinds: ReadonlyArray<MediaKind> = ["png", "jpeg"]
export const audioKinds: ReadonlyArray<MediaKind> = ["wav", "mp3"]
export const videoKinds: ReadonlyArray<MediaKind> = ["mp4", "mov"]

const byExtension: Record<string, MediaKind> = {
  png: "png",
  jpg: "jpeg",
  wav: "wav",
  mp3: "mp3",
  mp4: "mp4",
  m4v: "mp4",
  mov: "mov"
}

/** Bytes `sniffMediaKind` needs from the start of a file. */
export const sniffLength = 4100

/**
 * Recognises a file from its first bytes (at least `sniffLength` of them when available).
 * Anything else, including text renamed to `.png`, is `None`.
 */
export const sniffMediaKind = (head: Uint8Array): Effect.Effect<Option.Option<MediaKind>> =>
  Effect.promise(() => fileTypeFromBuffer(head).catch(() => undefined)).pipe(
    Effect.map((result) => Option.fromNullable(result ? byExtension[result.ext] : undefined))
  )

export const describeKinds = (kinds: ReadonlyArray<MediaKind>): string => kinds.map((k) => k.toUpperCase()).join(" or ")
