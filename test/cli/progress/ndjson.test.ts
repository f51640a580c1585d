import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { RunEvent } from "../../../src/runtime/events.ts"
import { ndjsonDocs, ndjsonLine } from "../../../src/cli/progress/ndjson.ts"
import { makeNdjsonRenderer } from "../../../src/cli/progress/ndjsonRenderer.ts"
import { allEventTypes, oneOfEach, sampleRun } from "./fixtures.ts"

describe("NDJSON", () => {
  it.each(allEventTypes)("%s: one line that parses back to the same event", (type) => {
    const event: RunEvent = oneOfEach[type]
    const line = ndjsonLine(event)
    expect(line.endsWith("\n")).toBe(true)
    expect(line.slice(0, -1)).not.toContain("\n")
    expect(JSON.parse(line)).toEqual(event)
  })

  it("writes each event as it is and nothing else", async () => {
    const out: Array<string> = []
    const renderer = makeNdjsonRenderer((text) => out.push(text))
    await Effect.runPromise(Effect.forEach(sampleRun, renderer.onEvent).pipe(Effect.zipRight(renderer.close)))
    const lines = out.join("").split("\n")
    expect(lines.pop()).toBe("")
    expect(lines.map((line) => JSON.parse(line))).toEqual(sampleRun)
  })

  it("documents every event type", () => {
    for (const type of allEventTypes) expect(ndjsonDocs).toContain(`| \`${type}\` |`)
  })
})
