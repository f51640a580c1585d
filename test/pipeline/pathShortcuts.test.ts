/**
 * The string shortcuts for paths (outputs are placed by the hundred thousand) answer what the
 * `path` functions they stand in for answer, on any path, plain or not.
 */
import { posix } from "node:path"
import { Path } from "@effect/platform"
import { NodePath } from "@effect/platform-node"
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { folderRelation, isInside, isInsideThrough, joinName, plainPathBelow, resolveBelow } from "../../src/pipeline/projectRoot.ts"

const path = Effect.runSync(Effect.provide(Path.Path, NodePath.layerPosix))

const segment = fc.constantFrom("a", "b", ".", "..", "", ".x", "é", "a b", "..a", "x.mp4")
const pathOf = (absolute: boolean) => fc.array(segment, { maxLength: 5 }).map((parts) => `${absolute ? "/" : ""}${parts.join("/")}`)
const anyPath = fc.oneof(pathOf(true), pathOf(false))
const isInsideByRelative = (root: string, candidate: string) => {
  const relative = posix.relative(root, candidate)
  return relative !== "" && !relative.startsWith("..") && !posix.isAbsolute(relative)
}

describe("path shortcuts", () => {
  it("plainPathBelow is path.relative wherever it answers, and isInside keeps its answers", () => {
    fc.assert(
      fc.property(anyPath, anyPath, (root, rest) => {
        for (const candidate of [`${root}/${rest}`, rest, `${root}${rest}`]) {
          const below = plainPathBelow(root, candidate, path)
          if (below !== undefined) expect(below).toBe(posix.relative(root, candidate))
          expect(isInside(root, candidate, path)).toBe(isInsideByRelative(root, candidate))
        }
      }),
      { numRuns: 3000 }
    )
  })

  it("joinName and resolveBelow are path.join and path.resolve", () => {
    fc.assert(
      fc.property(pathOf(true), anyPath, segment, (folder, relative, name) => {
        expect(joinName(folder, name, path)).toBe(posix.join(folder, name))
        expect(resolveBelow(folder, relative, path)).toBe(posix.resolve(folder, relative))
      }),
      { numRuns: 3000 }
    )
  })

  it("a folder's relation to a root tells whether each file in it is inside the root", () => {
    fc.assert(
      fc.property(pathOf(true), pathOf(true), segment, (root, folder, name) => {
        // Real locations, as the callers have them: normalized.
        const [r, f] = [posix.normalize(root), posix.normalize(folder)]
        const entry = posix.join(f, name)
        fc.pre(posix.dirname(entry) === f && name !== "" && name !== "." && name !== "..")
        expect(isInsideThrough(folderRelation(r, f, path), r, entry, path)).toBe(isInsideByRelative(r, entry))
      }),
      { numRuns: 3000 }
    )
  })

  it("answer the common case by the strings alone", () => {
    expect(plainPathBelow("/work/project", "/work/project/out/c001-acme.mp4", path)).toBe("out/c001-acme.mp4")
    expect(plainPathBelow("/work/project", "/work/projectx/a.mp4", path)).toBeUndefined()
    expect(resolveBelow("/work/project", "out/c001.mp4", path)).toBe("/work/project/out/c001.mp4")
  })
})
