/** Content digests: what identifies an input, an output or a generated voice track. */
import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import { createHash } from "node:crypto"

/** Bytes read at a time: one buffer, reused (a plan hashes hundreds of inputs, a resume every output). */
const chunkBytes = 256 * 1024

/** Hex SHA-256 of a file, read in chunks into one buffer (constant memory whatever its size). */
export const digestFile = (path: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const hash = createHash("sha256")
    yield* Effect.scoped(
      Effect.gen(function* () {
        const file = yield* fs.open(path)
        const buffer = new Uint8Array(chunkBytes)
        for (;;) {
          const read = Number(yield* file.read(buffer))
          if (read === 0) return
          hash.update(buffer.subarray(0, read))
        }
      })
    )
    return hash.digest("hex")
  })

/** Hex SHA-256 of bytes already in memory: the same digest as `digestFile` of a file holding them. */
export const digestBytes = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")
