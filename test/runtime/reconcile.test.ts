/**
 * The reconciliation rule on its own: which listed video a submit whose answer was lost may
 * adopt. Wrong inputs in an output are worse than paying twice, so the properties are about
 * what is never adopted; the runs on the simulator (run.test.ts, resume.test.ts, the faults
 * benchmark) show the rule in the whole runtime.
 */
import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import fc from "fast-check"
import type { Video } from "../../src/mirage/schemas.ts"
import { chooseAdoption, inWindow, type ReconcileWindow } from "../../src/runtime/reconcile.ts"

const t0 = 1_780_000_000_000 // epoch ms, a whole second

const video = (id: string, createdAtMs: number, extra: Partial<Video> = {}): Video => ({
  id,
  status: "PROCESSING",
  created_at: Math.floor(createdAtMs / 1000),
  completed_at: null,
  progress: null,
  error: null,
  model: "mirage-1",
  source_video_id: null,
  caption_template_id: null,
  share_link_url: null,
  ...extra
})

const window = (from: number, until: number, claimed: ReadonlyArray<string> = []): ReconcileWindow => ({
  from,
  until,
  matches: (v) => v.model === "mirage-1",
  claimed: new Set(claimed)
})

const statuses = fc.constantFrom("PROCESSING", "COMPLETE", "FAILED", "CANCELLED", "QUEUED")

/** A listed video: anywhere in ±2 minutes of t0, either model, claimed or not. */
const listed = fc.record({
  offsetMs: fc.integer({ min: -120_000, max: 120_000 }),
  model: fc.constantFrom("mirage-1", "mirage-2"),
  status: statuses,
  claimed: fc.boolean()
})

describe("reconciliation: which video a lost submit may adopt", () => {
  it("never adopts a claimed video, another model's, one outside the window, or one another lost submit could have made", () => {
    fc.assert(
      fc.property(
        fc.array(listed, { maxLength: 12 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.array(fc.record({ from: fc.integer({ min: -120_000, max: 120_000 }), length: fc.integer({ min: 0, max: 60_000 }) }), {
          maxLength: 3
        }),
        (videos, length, otherSpecs) => {
          const list = videos.map((v, i) => video(`v${i}`, t0 + v.offsetMs, { model: v.model, status: v.status }))
          const w = window(
            t0,
            t0 + length,
            videos.flatMap((v, i) => (v.claimed ? [`v${i}`] : []))
          )
          const others = otherSpecs.map((o) => ({ from: t0 + o.from, until: t0 + o.from + o.length }))
          const { adopt, candidates } = chooseAdoption(list, w, others)
          if (Option.isNone(adopt)) return
          const chosen = adopt.value
          expect(w.claimed.has(chosen.id)).toBe(false)
          expect(chosen.model).toBe("mirage-1")
          expect(inWindow(chosen.created_at, w)).toBe(true)
          expect(others.some((o) => inWindow(chosen.created_at, o))).toBe(false)
          // It was the only video this submit could have made.
          expect(candidates).toEqual([chosen])
        }
      )
    )
  })

  it("adopts the submit's own video whatever its status, when nothing else could be it", () => {
    fc.assert(
      fc.property(statuses, fc.integer({ min: 0, max: 30_000 }), fc.integer({ min: 0, max: 30_000 }), (status, length, at) => {
        const createdAt = t0 + Math.min(at, length)
        const own = video("own", createdAt, { status })
        const noise = [video("older", t0 - 60_000), video("claimed", createdAt), video("other-model", createdAt, { model: "mirage-2" })]
        const { adopt } = chooseAdoption([own, ...noise], window(t0, t0 + length, ["claimed"]), [])
        expect(Option.getOrUndefined(adopt)?.id).toBe("own")
      })
    )
  })

  it("two videos it cannot tell apart: adopts neither and names both (a FAILED one included)", () => {
    const { adopt, candidates } = chooseAdoption(
      [video("a", t0 + 500), video("b", t0 + 900, { status: "FAILED" })],
      window(t0, t0 + 1000),
      []
    )
    expect(Option.isNone(adopt)).toBe(true)
    expect(candidates.map((v) => v.id)).toEqual(["a", "b"])
  })

  it("a single match that another lost submit's window also covers is not adopted", () => {
    const { adopt } = chooseAdoption([video("a", t0 + 500)], window(t0, t0 + 1000), [{ from: t0 + 400, until: t0 + 600 }])
    expect(Option.isNone(adopt)).toBe(true)
  })

  it("created_at is in whole seconds and clocks differ: the window is widened by the skew, not more", () => {
    expect(inWindow(Math.floor((t0 - 1500) / 1000), { from: t0, until: t0 + 1000 })).toBe(true)
    expect(inWindow(Math.floor((t0 - 3000) / 1000), { from: t0, until: t0 + 1000 })).toBe(false)
    expect(inWindow(Math.floor((t0 + 4000) / 1000), { from: t0, until: t0 + 1000 })).toBe(false)
  })
})
