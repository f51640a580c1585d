/**
 * The files themselves: text that is not UTF-8, YAML whose aliases would explode, folders named
 * where files are expected. Each is a positioned diagnostic, never a stack trace or a "not found".
 */
import { mkdirSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { loadPipelinePromise } from "../../src/index.ts"
import { tempProject } from "../support/tempProject.ts"
import { alice, header, hello, problems } from "./problems.ts"

const utf8 = (text: string) => new TextEncoder().encode(text)
const notUtf8 = (byte: string) =>
  `not UTF-8: save the file as UTF-8 (byte 0x${byte} here is not valid UTF-8; Latin-1 or Windows-1252 text looks like this)`

describe("UTF-8", () => {
  it("a Latin-1 byte in the pipeline file is reported at its line and column", async () => {
    const p = tempProject()
    // "café" saved as Latin-1: é is the single byte 0xE9.
    const bytes = new Uint8Array([...utf8(`${header}description: Ünïcödé caf`), 0xe9, ...utf8(`\nsets: {}\n`)])
    expect(await problems(p, bytes)).toEqual([`pipeline.yaml:3:${"description: Ünïcödé caf".length + 1}: ${notUtf8("E9")}`])
  })

  it("so is an invalid sequence in a data file (a stray continuation byte, an overlong form)", async () => {
    const p = tempProject()
    p.write("a.csv", new Uint8Array([...utf8("id,presenter\np1,alice"), 0x80, ...utf8(".png\n")]))
    p.write("b.json", new Uint8Array([...utf8('[{ "id": "'), 0xc0, 0xaf, ...utf8('" }]\n')]))
    const rows = (name: string, file: string) =>
      `  ${name}:\n    rows: ${file}\n    image: assets/presenters/{{ row.presenter }}\n    audio: ${hello}\n`
    expect(await problems(p, `${header}sets:\n${rows("a", "a.csv")}${rows("b", "b.json")}`)).toEqual([
      `a.csv:2:9: ${notUtf8("80")}`,
      `b.json:1:11: ${notUtf8("C0")}`
    ])
  })

  it("a byte order mark is not a column", async () => {
    const p = tempProject()
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8("version: 1\nname: "), 0xff, ...utf8("\n")])
    expect(await problems(p, bytes)).toEqual([`pipeline.yaml:2:7: ${notUtf8("FF")}`])
  })
})

describe("YAML aliases", () => {
  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]"
  ]
  // 11 uses of a × 1, 11 of b × 11, then each *c stands for 121 values: the 8th use of c (its 9th
  // count, with the anchor) passes 1000.
  const column = "d: &d [".length + 7 * "*c, ".length + 1
  const message = `invalid YAML: the alias *c here takes the document past 1000 aliased values (a guard against files that expand a few lines into millions of nodes): write the values out, or repeat fewer of them through aliases`

  it("an alias bomb in the pipeline file is reported at the alias that passes the limit", async () => {
    const p = tempProject()
    expect(await problems(p, `${header}${bomb.join("\n")}\nsets: {}\n`)).toEqual([`pipeline.yaml:6:${column}: ${message}`])
  })

  it("and in a YAML data file", async () => {
    const p = tempProject()
    p.write("rows.yaml", `${bomb.map((line) => `- ${line}`).join("\n")}\n`)
    const out = await problems(p, `${header}sets:\n  a:\n    rows: rows.yaml\n    image: ${alice}\n    audio: ${hello}\n`)
    expect(out).toEqual([`rows.yaml:4:${column + 2}: ${message}`])
  })

  it("ordinary aliases are fine", async () => {
    const p = tempProject()
    const file = p.write(
      "pipeline.yaml",
      `${header}vars: { who: &who alice, again: *who }\nsets:\n  a: { pairs: [{ image: &face ${alice}, audio: ${hello} }, { image: *face, audio: assets/voice/welcome.mp3 }] }\n`
    )
    expect((await loadPipelinePromise(file)).spec.vars).toEqual({ who: "alice", again: "alice" })
  })
})

describe("a folder where a file is expected", () => {
  it("the pipeline file", async () => {
    const p = tempProject()
    mkdirSync(`${p.root}/campaign.yaml`)
    expect(await problems(p, undefined, "campaign.yaml")).toEqual([
      `campaign.yaml:1:1: is a folder, not a file: name the pipeline file itself (like pipelines/spring-launch.yaml)`
    ])
  })

  it("a rows data file", async () => {
    const p = tempProject()
    mkdirSync(`${p.root}/data.csv`)
    expect(await problems(p, `${header}sets:\n  a:\n    rows: data.csv\n    image: ${alice}\n    audio: ${hello}\n`)).toEqual([
      `pipeline.yaml:5:11: data file "data.csv" is a folder, not a file: name the CSV, JSON or YAML file`
    ])
  })

  it("an image and an audio", async () => {
    const p = tempProject()
    mkdirSync(`${p.root}/assets/voice/folder.wav`)
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    pairs:\n      - image: assets/presenters\n        audio: assets/voice/folder.wav\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:6:16: image "assets/presenters": is a folder, not a file`,
      `pipeline.yaml:7:16: audio "assets/voice/folder.wav": is a folder, not a file`
    ])
  })
})
