/** A file's lines, read in chunks: a 40 MB file is never one string. */
import { createReadStream } from "node:fs"

const newline = 0x0a

/**
 * The lines of the file at `path`, split at "\n" only (a "\r" stays in its line); the text after
 * the last "\n" is the last line, "" when the file ends with one. Split as bytes, decoded as
 * UTF-8 line by line, so a character cut between two chunks is whole. Stopping early closes the file.
 */
export async function* fileLines(path: string): AsyncGenerator<string> {
  // The start of the current line, from earlier chunks: joined once, when its end is read.
  let pending: Array<Buffer> = []
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let start = 0
    for (let end = chunk.indexOf(newline); end >= 0; end = chunk.indexOf(newline, start)) {
      const piece = chunk.subarray(start, end)
      yield pending.length === 0 ? piece.toString("utf8") : Buffer.concat([...pending, piece]).toString("utf8")
      pending = []
      start = end + 1
    }
    if (start < chunk.length) pending.push(chunk.subarray(start))
  }
  yield Buffer.concat(pending).toString("utf8")
}
