import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { didYouMean, editDistance, typoThreshold } from "../../src/pipeline/didYouMean.ts"

describe("editDistance", () => {
  it("counts insertions, deletions, substitutions and adjacent swaps", () => {
    expect(editDistance("", "")).toBe(0)
    expect(editDistance("", "abc")).toBe(3)
    expect(editDistance("abc", "")).toBe(3)
    expect(editDistance("slug", "slug")).toBe(0)
    expect(editDistance("slg", "slug")).toBe(1)
    expect(editDistance("slugg", "slug")).toBe(1)
    expect(editDistance("slog", "slug")).toBe(1)
    expect(editDistance("nmae", "name")).toBe(1)
    expect(editDistance("ca", "abc")).toBe(3) // optimal string alignment, not unrestricted Damerau
    expect(editDistance("kitten", "sitting")).toBe(3)
  })

  it.prop("is a symmetric distance bounded by the longer length", { a: fc.string(), b: fc.string() }, ({ a, b }) => {
    const d = editDistance(a, b)
    expect(d).toBe(editDistance(b, a))
    expect(d).toBeGreaterThanOrEqual(Math.abs(a.length - b.length))
    expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length))
    expect(d === 0).toBe(a === b)
  })
})

describe("didYouMean", () => {
  it("suggests the closest plausible candidate", () => {
    expect(didYouMean("slg", ["slug", "lower", "upper"])).toBe("slug")
    expect(didYouMean("uper", ["slug", "lower", "upper"])).toBe("upper")
    expect(didYouMean("nmae", ["id", "name"])).toBe("name")
    expect(didYouMean("row.nmae", ["row.id", "row.name"])).toBe("row.name")
    expect(didYouMean("concurency", ["concurrency", "requestsPerSecond"])).toBe("concurrency")
  })

  it("gives nothing when no candidate is close enough", () => {
    expect(didYouMean("zzz", ["slug", "lower", "upper"])).toBeUndefined()
    expect(didYouMean("x", ["id", "name"])).toBeUndefined()
    expect(didYouMean("anything", [])).toBeUndefined()
    expect(didYouMean("", ["a", "b"])).toBeUndefined()
  })

  it("allows one edit per three characters, at least one", () => {
    expect(typoThreshold("ab")).toBe(1)
    expect(typoThreshold("abcdef")).toBe(2)
    expect(didYouMean("ab", ["abcd"])).toBeUndefined() // 2 edits for a 2-letter word
    expect(didYouMean("abcdef", ["abcdefgh"])).toBe("abcdefgh") // 2 edits for a 6-letter word
    expect(didYouMean("abcdef", ["abcdefghi"])).toBeUndefined()
  })

  it("ignores case, preferring the candidate whose case also matches", () => {
    expect(didYouMean("SLUG", ["slug", "lower"])).toBe("slug")
    expect(didYouMean("ApiKey", ["apikey", "apiKey"])).toBe("apiKey")
    expect(didYouMean("apikey", ["apiKey", "apikey"])).toBe("apikey")
  })

  it("breaks ties the same way whatever the candidates' order", () => {
    expect(didYouMean("bat", ["cat", "hat", "rat"])).toBe("cat")
    expect(didYouMean("bat", ["rat", "hat", "cat"])).toBe("cat")
  })

  it("accepts any iterable", () => {
    expect(didYouMean("lowr", new Set(["lower", "upper"]))).toBe("lower")
  })

  it.prop(
    "is a candidate within the threshold, independent of order",
    { input: fc.string({ maxLength: 12 }), candidates: fc.array(fc.string({ maxLength: 12 }), { maxLength: 8 }) },
    ({ input, candidates }) => {
      const found = didYouMean(input, candidates)
      expect(didYouMean(input, [...candidates].reverse())).toBe(found)
      if (found !== undefined) {
        expect(candidates).toContain(found)
        expect(editDistance(input.toLowerCase(), found.toLowerCase())).toBeLessThanOrEqual(typoThreshold(input))
      }
    }
  )

  it.prop("finds an exact candidate", { input: fc.string({ minLength: 1 }), others: fc.array(fc.string()) }, ({ input, others }) => {
    expect(didYouMean(input, [...others, input])).toBe(input)
  })
})
