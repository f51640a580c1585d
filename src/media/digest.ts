/** Content digests: what identifies an input, an output or a generated voice track. */
import { FileSystem } from "@effect/platform"
import { Effect, Stream } from "effect"
import { createHash } from "node:crypto"

/** Hex SHA-256 of a file, streamed (constant memory whatever its size). */
export const digestFile = (path: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const hash = createHash("sha256")
    yield* fs.stream(path).pipe(Stream.runForEach((chunk) => Effect.sync(() => hash.update(chunk))))
    return hash.digest("hex")
  })
