import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { canonicalJson, fingerprint } from "../../src/plan/fingerprint.ts"

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
