/**
 * Bad input of every kind the foundation issue lists: each is reported as FILE:LINE:COL: message,
 * all problems of a file together, and nothing is written.
 */
import { describe, expect, it } from "vitest"
import { formatDiagnostic, PipelineInvalid, validatePipelinePromise } from "../../src/index.ts"
import { tempProject, type TempProject } from "../support/tempProject.ts"

const header = "version: 1\nname: test\n"
const alice = "assets/presenters/alice.png"
const hello = "assets/voice/hello.wav"

/** Validates `pipeline.yaml` in the project; returns the diagnostics as the CLI prints them. */
const problems = async (project: TempProject, yaml: string): Promise<ReadonlyArray<string>> => {
  const file = project.write("pipeline.yaml", yaml)
  const before = project.snapshot()
  const error = await validatePipelinePromise(file).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(project.snapshot()).toEqual(before) // nothing written, whatever the outcome
  expect(error).toBeInstanceOf(PipelineInvalid)
  return (error as PipelineInvalid).diagnostics.map((d) => formatDiagnostic({ ...d, file: d.file.replace(project.root + "/", "") }))
}

describe("clapper validate: bad input", () => {
  it("malformed YAML points at the syntax error", async () => {
    const p = tempProject()
    const out = await problems(p, `${header}sets:\n  a:\n    pairs: [ { image: x\n`)
    expect(out.length).toBeGreaterThan(0)
    for (const line of out) expect(line).toMatch(/^pipeline\.yaml:[56]:\d+: invalid YAML: /)
  })

  it("a wrong type names the field at its value", async () => {
    const p = tempProject()
    const out = await problems(p, `${header}run:\n  concurrency: many\nsets:\n  a:\n    pairs: [{ image: ${alice}, audio: ${hello} }]\n`)
    expect(out).toEqual([expect.stringMatching(/^pipeline\.yaml:4:16: run\.concurrency: expected number, actual "many"$/)])
  })

  it("an unknown key is reported at the key, with a did-you-mean", async () => {
    const p = tempProject()
    const out = await problems(p, `${header}sets:\n  a:\n    pairs:\n      - { image: ${alice}, audoi: ${hello} }\n`)
    expect(out).toContain(
      `pipeline.yaml:6:${"      - { image: ".length + alice.length + 3}: unknown key "audoi" in sets.a.pairs[0] (did you mean "audio"?)`
    )
  })

  it("a missing required key is reported at its parent mapping", async () => {
    const p = tempProject()
    const out = await problems(p, `version: 1\nsets:\n  a:\n    pairs: [{ image: ${alice}, audio: ${hello} }]\n`)
    expect(out).toEqual([`pipeline.yaml:1:1: the pipeline is missing the required key "name"`])
  })

  it("several errors in one file are all reported", async () => {
    const p = tempProject()
    const out = await problems(p, `version: 1\nname: Not A Slug\nrun: { timeout: soon }\nsets:\n  a: { pairs: [{ image: ${alice} }] }\n`)
    expect(out).toHaveLength(3)
    expect(out[0]).toMatch(/^pipeline\.yaml:2:7: name: expected a slug/)
    expect(out[1]).toMatch(/^pipeline\.yaml:3:17: run\.timeout: expected a duration/)
    expect(out[2]).toMatch(/^pipeline\.yaml:5:\d+: sets\.a\.pairs\[0\] is missing the required key "audio"/)
  })

  it("a version other than 1", async () => {
    const p = tempProject()
    const out = await problems(p, `version: 2\nname: test\nsets:\n  a: { pairs: [{ image: ${alice}, audio: ${hello} }] }\n`)
    expect(out).toEqual([`pipeline.yaml:1:10: version: this Clapper reads pipeline files of version 1; set \`version: 1\``])
  })

  it("an unknown template variable, at the placeholder, with a suggestion", async () => {
    const p = tempProject()
    const line = `output: out/{{ image.stme }}.mp4`
    const out = await problems(p, `${header}${line}\nsets:\n  a: { pairs: [{ image: ${alice}, audio: ${hello} }] }\n`)
    expect(out).toEqual([
      expect.stringMatching(new RegExp(`^pipeline\\.yaml:3:${line.indexOf("{{") + 1}: .*image\\.stme.*did you mean "image\\.stem"`))
    ])
  })

  it("an unknown filter, at the placeholder", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}output: "out/{{ set | slgu }}.mp4"\nsets:\n  a: { pairs: [{ image: ${alice}, audio: ${hello} }] }\n`
    )
    expect(out).toEqual([expect.stringMatching(/^pipeline\.yaml:3:\d+: .*slgu.*did you mean "slug"/)])
  })

  it("a glob that matches nothing, at the pattern", async () => {
    const p = tempProject()
    const out = await problems(p, `${header}sets:\n  a:\n    matrix:\n      image: assets/presenters/*.gif\n      audio: ${hello}\n`)
    expect(out).toEqual([
      `pipeline.yaml:6:14: the glob "assets/presenters/*.gif" matches no file (relative to ${p.root}/pipeline.yaml's folder)`
    ])
  })

  it("a CSV row without a column the templates use names the column and the columns there are", async () => {
    const p = tempProject()
    p.write("data.csv", "id,presenter\np1,alice.png\n")
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    rows: data.csv\n    image: assets/presenters/{{ row.presenter }}\n    audio: assets/voice/{{ row.voice }}\n`
    )
    expect(out).toEqual([
      expect.stringMatching(/^pipeline\.yaml:7:25: unknown variable "row\.voice" \(available: row\.id, row\.presenter\)$/)
    ])
  })

  it("a CSV value carrying ../ is refused at its row", async () => {
    const p = tempProject()
    p.write("data.csv", "id,presenter\np1,alice.png\np2,../../etc/passwd\n")
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    rows: data.csv\n    image: assets/presenters/{{ row.presenter }}\n    audio: ${hello}\n`
    )
    expect(out).toEqual([
      expect.stringMatching(new RegExp(`^data\\.csv:3:1: .*row\\.presenter.*\\.\\./\\.\\./etc/passwd.*slug.*pipeline\\.yaml:6:30`))
    ])
  })

  it("a .png that is really text", async () => {
    const p = tempProject()
    p.write("assets/fake.png", "I am not a picture\n")
    const out = await problems(p, `${header}sets:\n  a:\n    pairs:\n      - image: assets/fake.png\n        audio: ${hello}\n`)
    expect(out).toEqual([
      `pipeline.yaml:6:16: image "assets/fake.png": must be PNG or JPEG by its contents, but it is not a recognised media file`
    ])
  })

  it("an empty audio file", async () => {
    const p = tempProject()
    p.write("assets/empty.wav", "")
    const out = await problems(p, `${header}sets:\n  a:\n    pairs:\n      - image: ${alice}\n        audio: assets/empty.wav\n`)
    expect(out).toEqual([`pipeline.yaml:7:16: audio "assets/empty.wav": the file is empty`])
  })

  it("an oversized audio file", async () => {
    const p = tempProject()
    const big = new Uint8Array(51 * 1024 * 1024)
    big.set(new TextEncoder().encode("RIFF\0\0\0\0WAVEfmt "))
    p.write("assets/huge.wav", big)
    const out = await problems(p, `${header}sets:\n  a:\n    pairs:\n      - image: ${alice}\n        audio: assets/huge.wav\n`)
    expect(out).toEqual([`pipeline.yaml:7:16: audio "assets/huge.wav": is 51.0 MB, over the API's 50.0 MB limit for audio files`])
  })

  it("a missing input file", async () => {
    const p = tempProject()
    const out = await problems(p, `${header}sets:\n  a:\n    pairs:\n      - image: assets/nobody.png\n        audio: ${hello}\n`)
    expect(out).toEqual([`pipeline.yaml:6:16: image "assets/nobody.png": no such file`])
  })

  it("an output escaping the project root with ..", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}output: ../elsewhere/{{ image.stem }}.mp4\nsets:\n  a: { pairs: [{ image: ${alice}, audio: ${hello} }] }\n`
    )
    expect(out).toEqual([
      expect.stringMatching(/^pipeline\.yaml:3:9: output "\.\.\/elsewhere\/alice\.mp4" resolves to .*, outside the project root/)
    ])
  })

  it("an output escaping the project root through a symlink", async () => {
    const p = tempProject()
    const { symlinkSync, mkdtempSync } = await import("node:fs")
    const { tmpdir } = await import("node:os")
    symlinkSync(mkdtempSync(`${tmpdir()}/clapper-outside-`), `${p.root}/renders`)
    const out = await problems(
      p,
      `${header}output: renders/{{ image.stem }}.mp4\nsets:\n  a: { pairs: [{ image: ${alice}, audio: ${hello} }] }\n`
    )
    expect(out).toEqual([
      expect.stringMatching(/^pipeline\.yaml:3:9: output "renders\/alice\.mp4" resolves to .*clapper-outside-.*, outside the project root/)
    ])
  })

  it("two jobs with one output, naming both", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}output: out/{{ image.stem }}.mp4\nsets:\n  a:\n    matrix:\n      image: ${alice}\n      audio: [${hello}, assets/voice/welcome.mp3]\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:7:7: two jobs write "out/alice.mp4": set "a" job 1 (${alice} + assets/voice/welcome.mp3) and set "a" job 0 (${alice} + ${hello}) at ${p.root}/pipeline.yaml:7:7; make the output template tell them apart`
    ])
  })

  it("an exclude entry that matches nothing", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    matrix: { image: ${alice}, audio: ${hello} }\n    exclude:\n      - { image: assets/presenters/bob.jpg }\n`
    )
    expect(out).toEqual([`pipeline.yaml:7:9: this exclude entry matches no job of the matrix: check its paths`])
  })

  it("a matrix with neither matrix.audio nor speech, or with both, is reported at the set", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    matrix: { image: ${alice} }\n  b:\n    matrix: { image: ${alice}, audio: ${hello} }\n    speech: { voice: v_narrator, text: Hello }\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:5:5: set "a" needs exactly one of matrix.audio (files) or speech (a script)`,
      `pipeline.yaml:7:5: set "b" needs exactly one of matrix.audio (files) or speech (a script)`
    ])
  })

  it("a spoken matrix: an exclude entry naming audio is refused at its key; the script has no audio.* variables", async () => {
    const p = tempProject()
    const entry = `      - { image: ${alice}, audio: ${hello} }`
    const script = `    speech: { voice: v_narrator, text: "I am {{ audio.stem }}" }`
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    matrix: { image: assets/presenters/*.png }\n${script}\n    exclude:\n${entry}\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:8:${entry.indexOf("audio") + 1}: set "a" speaks its voice track (speech), so it has no audio files to leave out: an exclude entry here names image only`,
      `pipeline.yaml:6:${script.indexOf("{{") + 1}: unknown variable "audio.stem" (available: set, index, image.{path,name,stem,ext})`
    ])
  })

  it("a spoken matrix: a script too long is reported at the script naming the image; an empty voice at the voice", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}vars: { long: ${"x".repeat(4990)}, nobody: "" }\nsets:\n  a:\n    matrix: { image: [${alice}, assets/presenters/bob.jpg] }\n    speech:\n      voice: "{{ vars.nobody }}"\n      text: "{{ vars.long }} {{ image.stem }}"\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:8:14: the speech voice renders empty for image "${alice}"`,
      `pipeline.yaml:8:14: the speech voice renders empty for image "assets/presenters/bob.jpg"`
    ])
    // 4995 + " alice" is over the API's 5000 characters; 4995 + " bob" is not.
    const tooLong = await problems(
      p,
      `${header}vars: { long: ${"x".repeat(4995)} }\nsets:\n  a:\n    matrix: { image: [${alice}, assets/presenters/bob.jpg] }\n    speech:\n      voice: v_narrator\n      text: "{{ vars.long }} {{ image.stem }}"\n`
    )
    expect(tooLong).toEqual([
      expect.stringMatching(
        new RegExp(
          `^pipeline\\.yaml:9:13: the speech script for image "${alice}" is 5001 characters, over the API's 5000 \\(the template at .*pipeline\\.yaml:9:13\\)$`
        )
      )
    ])
  })

  it("a spoken pair whose script is too long is named by its image", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}vars: { long: ${"x".repeat(4995)} }\nsets:\n  a:\n    speech: { voice: v_narrator, text: "{{ vars.long }} {{ image.stem }}" }\n    pairs:\n      - { image: ${alice} }\n      - { image: assets/presenters/bob.jpg }\n`
    )
    expect(out).toEqual([
      expect.stringMatching(new RegExp(`^pipeline\\.yaml:6:\\d+: the speech script for image "${alice}" is 5001 characters`))
    ])
  })

  it("spoken rows and pairs: the script knows image.* but not audio.*, reported at the placeholder", async () => {
    const p = tempProject()
    p.write("data.csv", "id,presenter\np1,alice.png\n")
    const rowsScript = `    speech: { voice: v_narrator, text: "I am {{ image.stem }}, not {{ audio.stem }}" }`
    const pairsScript = `    speech: { voice: "{{ audio.name }}", text: "I am {{ image.stem }}" }`
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    rows: data.csv\n    image: assets/presenters/{{ row.presenter }}\n${rowsScript}\n  b:\n    pairs: [{ image: ${alice} }]\n${pairsScript}\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:7:${rowsScript.lastIndexOf("{{") + 1}: unknown variable "audio.stem" (available: set, index, image.{path,name,stem,ext}, row.{id,presenter})`,
      `pipeline.yaml:10:${pairsScript.indexOf("{{") + 1}: unknown variable "audio.name" (available: set, index, image.{path,name,stem,ext})`
    ])
  })

  it("a spoken row whose image does not resolve is reported for its image, not for its script", async () => {
    const p = tempProject()
    p.write("data.csv", "id,presenter,name\np1,alice.png,Al\np2,../../etc/passwd,\n")
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    rows: data.csv\n    image: assets/presenters/{{ row.presenter }}\n    speech: { voice: v_narrator, text: "{{ row.name }}" }\n`
    )
    expect(out).toEqual([
      expect.stringMatching(new RegExp(`^data\\.csv:3:1: .*row\\.presenter.*\\.\\./\\.\\./etc/passwd.*pipeline\\.yaml:6:30`))
    ])
  })
})
