import { Effect, Schema, SchemaAST } from "effect"
import { describe, expect, it } from "vitest"
import { RunEvent } from "../../../src/runtime/events.ts"
import { describedAs, ndjsonDocs, ndjsonEvents, ndjsonLine } from "../../../src/cli/progress/ndjson.ts"
import { makeNdjsonRenderer } from "../../../src/cli/progress/ndjsonRenderer.ts"
import { allEventTypes, oneOfEach, sampleRun } from "./fixtures.ts"

const decodeEvent = Schema.decodeUnknownSync(RunEvent)

/** The table's row for `type`. */
const rowOf = (type: string) => ndjsonDocs.split("\n").find((line) => line.startsWith(`| \`${type}\` |`))

const description = describedAs

/** The struct a field holds, itself or as an array's elements. */
const structOf = (ast: SchemaAST.AST): SchemaAST.TypeLiteral | undefined =>
  SchemaAST.isTypeLiteral(ast) ? ast : SchemaAST.isTupleType(ast) && ast.rest.length === 1 ? structOf(ast.rest[0]!.type) : undefined

/** Every field of `struct`, nested ones included, as `[path, signature]`. */
const fieldsOf = (struct: SchemaAST.TypeLiteral, prefix = ""): ReadonlyArray<readonly [string, SchemaAST.PropertySignature]> =>
  struct.propertySignatures.flatMap((ps) => {
    const path = `${prefix}${String(ps.name)}`
    const inner = structOf(ps.type)
    return [[path, ps] as const, ...(inner ? fieldsOf(inner, `${path}.`) : [])]
  })

describe("NDJSON", () => {
  it.each(allEventTypes)("%s: one line that parses back to the same event, which the schema decodes as it is", (type) => {
    const event: RunEvent = oneOfEach[type]
    const line = ndjsonLine(event)
    expect(line.endsWith("\n")).toBe(true)
    expect(line.slice(0, -1)).not.toContain("\n")
    expect(JSON.parse(line)).toEqual(event)
    expect(decodeEvent(JSON.parse(line))).toEqual(event)
  })

  it("writes each event as it is and nothing else", async () => {
    const out: Array<string> = []
    const renderer = makeNdjsonRenderer((text) => out.push(text))
    await Effect.runPromise(Effect.forEach(sampleRun, renderer.onEvent).pipe(Effect.zipRight(renderer.close)))
    const lines = out.join("").split("\n")
    expect(lines.pop()).toBe("")
    expect(lines.map((line) => JSON.parse(line))).toEqual(sampleRun)
    expect(lines.map((line) => decodeEvent(JSON.parse(line)))).toEqual(sampleRun)
  })

  it("documents every event type, and only those", () => {
    for (const type of allEventTypes) expect(rowOf(type), type).toBeDefined()
    expect(ndjsonEvents.map((e) => e.type).sort()).toEqual([...allEventTypes].sort())
    const rows = ndjsonDocs.split("\n").filter((line) => /^\| `[a-z]+\.[A-Za-z]+` \|/.test(line))
    expect(rows).toHaveLength(allEventTypes.length)
  })

  it("documents every field of every event, nested ones included, with ? on the optional ones", () => {
    for (const { type, ast } of ndjsonEvents) {
      const row = rowOf(type)!
      expect(description(ast), `${type} has a description`).toBeDefined()
      expect(row).toContain(description(ast)!)
      for (const [path, ps] of fieldsOf(ast)) {
        if (path === "type" || path === "at") continue
        // `name`? for an optional field, `name` without ? for one that is always there.
        const name = `\`${String(ps.name)}\``
        if (ps.isOptional) expect(row, `${type}: ${path}`).toContain(`${name}?`)
        else expect(row, `${type}: ${path}`).toMatch(new RegExp(`${name}(?!\\?)`))
        expect(description(ps.type), `${type}: ${path} has a description`).toBeDefined()
      }
    }
  })

  it("shows each top-level field's description in its row", () => {
    for (const { type, ast } of ndjsonEvents) {
      const row = rowOf(type)!
      for (const ps of ast.propertySignatures) {
        if (["type", "at", "job", "videoId"].includes(String(ps.name))) continue
        expect(row, `${type}: ${String(ps.name)}`).toContain(description(ps.type)!.replace(/\|/g, "\\|"))
      }
    }
  })

  it("the summary's fields are each in run.finished's row with their descriptions", () => {
    const finished = ndjsonEvents.find((e) => e.type === "run.finished")!
    const summary = structOf(finished.ast.propertySignatures.find((ps) => ps.name === "summary")!.type)!
    const row = rowOf("run.finished")!
    for (const ps of summary.propertySignatures) expect(row, String(ps.name)).toContain(description(ps.type)!)
  })

  it('counts a bare Schema.String as undescribed (Effect\'s own "a string" is not a description)', () => {
    expect(describedAs(Schema.String.ast)).toBeUndefined()
    expect(describedAs(Schema.Number.ast)).toBeUndefined()
    expect(describedAs(Schema.String.annotations({ description: "the set" }).ast)).toBe("the set")
  })

  it("refuses a line that is not an event, naming the field", () => {
    expect(() => decodeEvent({ type: "job.submitted", at: "x", job: "a.mp4", attempt: 1 })).toThrow(/videoId/)
    expect(() => decodeEvent({ type: "job.nope", at: "x" })).toThrow(/type/)
  })
})
