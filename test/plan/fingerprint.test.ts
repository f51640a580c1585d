import { createHash } from "node:crypto"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { canonicalJson, fingerprint, recipeVersion, speechFingerprint } from "../../src/plan/fingerprint.ts"

const hex = fc.stringMatching(/^[0-9a-f]{64}$/)
const inputs = fc.record({ model: fc.constantFrom("mirage-video-1-latest", "mirage-video-2"), image: hex, audio: hex })

describe("fingerprints", () => {
  it("are stable: the same inputs always give the same fingerprint, whatever the key order", () => {
    fc.assert(
      fc.property(inputs, fc.dictionary(fc.string(), fc.jsonValue()), (i, stages) => {
        const reordered = Object.fromEntries(Object.entries(stages).reverse())
        expect(fingerprint({ ...i, stages })).toBe(fingerprint({ audio: i.audio, image: i.image, model: i.model, stages: reordered }))
      })
    )
  })

  it("change when any input digest, the model or a stage parameter changes", () => {
    fc.assert(
      fc.property(inputs, inputs, (a, b) => {
        fc.pre(a.model !== b.model || a.image !== b.image || a.audio !== b.audio)
        expect(fingerprint(a)).not.toBe(fingerprint(b))
      })
    )
    fc.assert(
      fc.property(inputs, fc.string(), fc.string(), (i, x, y) => {
        fc.pre(x !== y)
        expect(fingerprint({ ...i, stages: { captions: x } })).not.toBe(fingerprint({ ...i, stages: { captions: y } }))
      })
    )
  })

  it("do not confuse image and audio", () => {
    fc.assert(
      fc.property(hex, hex, (x, y) => {
        fc.pre(x !== y)
        expect(fingerprint({ model: "m", image: x, audio: y })).not.toBe(fingerprint({ model: "m", image: y, audio: x }))
      })
    )
  })

  it("canonical JSON is independent of key order at every depth", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const shuffled = JSON.parse(JSON.stringify(value), (_, v: unknown) =>
          v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v
        )
        expect(canonicalJson(shuffled)).toBe(canonicalJson(value))
      })
    )
  })
})

describe("fingerprint values never change", () => {
  // Recorded in users' journals and lock files: a different value would render everything again.
  const a = "a".repeat(64)
  const b = "0123456789abcdef".repeat(4)

  it("keep the values they had when they were first recorded", () => {
    expect(fingerprint({ model: "mirage-video-1-latest", image: a, audio: b })).toBe(
      "sha256:ab1377d91391c9897aa1bd605d145b8d6944cba89e4a66e4bfe772b887226e11"
    )
    expect(
      fingerprint({ model: "mirage-video-1-latest", image: a, audio: b, stages: { captions: { template: "ctpl_yvE0ZnYzEj6ClCD2ee1f" } } })
    ).toBe("sha256:0aa724292ec71b147df30d72c6c5ee2d8826f858ee85a30f77a3848eae686cc6")
    expect(
      fingerprint({
        model: "m",
        image: b,
        audio: a,
        stages: { overlay: { text: 'Made for "Acme" é 🎬', font: undefined, size: 48, color: "#FFCC00" }, captions: { template: "t" } }
      })
    ).toBe("sha256:d43a16eee0feb634f2210aed808985ff4848f451a11186135146d0583680ae96")
    expect(speechFingerprint({ voice: "v1", text: "Hi Ada", model: "mirage-audio-1" })).toBe(
      "sha256:8d60757b3d0e677abaf838c9b718a884ef5a0d6a3e001fc6f20a3e04084c4323"
    )
  })

  it("are the SHA-256 of the canonical JSON of recipe, model, inputs and stages, whatever the strings", () => {
    const text = fc.string({ unit: "grapheme" })
    fc.assert(
      fc.property(
        text,
        text,
        text,
        fc.option(fc.dictionary(fc.string(), fc.jsonValue()), { nil: undefined }),
        (model, image, audio, stages) => {
          const canonical = canonicalJson({ recipe: recipeVersion, model, image, audio, stages: stages ?? {} })
          const expected = `sha256:${createHash("sha256").update(canonical).digest("hex")}`
          expect(fingerprint({ model, image, audio, ...(stages !== undefined ? { stages } : {}) })).toBe(expected)
        }
      )
    )
  })
})
