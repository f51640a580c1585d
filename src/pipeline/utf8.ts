/**
 * The user's files (pipeline, data rows) are UTF-8. A lenient decoder would turn a Latin-1 `é`
 * into `�` and carry it into file names and scripts; the strict one refuses, and the first bad
 * byte is reported at its line and column.
 */
import { Either } from "effect"
import type { Diagnostic } from "./diagnostic.ts"

/** Like `readFileString`: a byte order mark is kept (the YAML and CSV readers expect it). */
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

const isContinuation = (byte: number | undefined) => byte !== undefined && byte >= 0x80 && byte <= 0xbf

/** Offset of the first byte that is not part of a valid UTF-8 sequence (RFC 3629), or -1. */
export const firstInvalidUtf8 = (bytes: Uint8Array): number => {
  let i = 0
  while (i < bytes.length) {
    const lead = bytes[i] as number
    if (lead < 0x80) {
      i += 1
      continue
    }
    // Length of the sequence and the range its second byte must fall in (no overlong forms,
    // no surrogates, nothing above U+10FFFF).
    const [length, low, high] =
      lead >= 0xc2 && lead <= 0xdf
        ? [2, 0x80, 0xbf]
        : lead === 0xe0
          ? [3, 0xa0, 0xbf]
          : lead === 0xed
            ? [3, 0x80, 0x9f]
            : lead >= 0xe1 && lead <= 0xef
              ? [3, 0x80, 0xbf]
              : lead === 0xf0
                ? [4, 0x90, 0xbf]
                : lead >= 0xf1 && lead <= 0xf3
                  ? [4, 0x80, 0xbf]
                  : lead === 0xf4
                    ? [4, 0x80, 0x8f]
                    : [0, 0, 0]
    if (length === 0) return i
    const second = bytes[i + 1]
    if (second === undefined || second < low || second > high) return i
    for (let k = 2; k < length; k++) if (!isContinuation(bytes[i + k])) return i
    i += length
  }
  return -1
}

/** The text of a file's bytes, or a diagnostic at the first byte that is not UTF-8. */
export const decodeUtf8 = (file: string, bytes: Uint8Array): Either.Either<string, Diagnostic> => {
  try {
    return Either.right(strict.decode(bytes))
  } catch {
    const offset = Math.max(0, firstInvalidUtf8(bytes))
    // Everything before the bad byte is valid: its text gives the line and the column (counted
    // like the YAML reader's, in UTF-16 units).
    const before = strict.decode(bytes.subarray(0, offset))
    const lineStart = before.lastIndexOf("\n") + 1
    const line = before.split("\n").length
    const byte = (bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, "0")
    return Either.left({
      file,
      line,
      // An editor does not count a byte order mark as a column.
      column: before.length - lineStart + 1 - (line === 1 && before.startsWith("\uFEFF") ? 1 : 0),
      message: `not UTF-8: save the file as UTF-8 (byte 0x${byte} here is not valid UTF-8; Latin-1 or Windows-1252 text looks like this)`
    })
  }
}
