/**
 * Outputs that would destroy what the pipeline reads or what Clapper keeps, and names too long
 * for the file system: each refused at the output's template, before anything is sent.
 */
import { linkSync, mkdirSync, symlinkSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { tempProject } from "../support/tempProject.ts"
import { alice, header, hello, problems } from "./problems.ts"

const pair = (output: string) => `      - { image: ${alice}, audio: ${hello}, output: "${output}" }`
/** Column of a pair's output value (its opening quote). */
const outputColumn = pair("").indexOf('output: "') + "output: ".length + 1
const imageColumn = pair("").indexOf("image: ") + "image: ".length + 1
const audioColumn = pair("").indexOf("audio: ") + "audio: ".length + 1

describe("an output may never overwrite an input", () => {
  it("refuses an output that is a job's image or audio, the pipeline file, its lock file or a data file", async () => {
    const p = tempProject()
    p.write("data.csv", "id,presenter\np1,alice.png\n")
    const out = await problems(
      p,
      `${header}sets:
  a:
    pairs:
${pair(alice)}
${pair("assets/voice/hello.wav")}
${pair("pipeline.yaml")}
${pair("pipeline.lock.json")}
${pair("data.csv")}
  b:
    rows: data.csv
    image: assets/presenters/{{ row.presenter }}
    audio: ${hello}
    output: out/{{ row.id }}.mp4
`
    )
    expect(out).toEqual([
      `pipeline.yaml:6:${outputColumn}: output "${alice}" is the input image of set "a" job 0 (pipeline.yaml:6:${imageColumn}): an output may never overwrite an input`,
      `pipeline.yaml:7:${outputColumn}: output "${hello}" is the input audio of set "a" job 0 (pipeline.yaml:6:${audioColumn}): an output may never overwrite an input`,
      `pipeline.yaml:8:${outputColumn}: output "pipeline.yaml" is this pipeline file: an output may never overwrite an input`,
      `pipeline.yaml:9:${outputColumn}: output "pipeline.lock.json" is this pipeline's lock file: it records what each output was rendered from; choose another output path`,
      `pipeline.yaml:10:${outputColumn}: output "data.csv" is the data file of set "b" (pipeline.yaml:12:11): an output may never overwrite an input`
    ])
  })

  it("sees through links: a symlinked folder, a symlinked input, a hard link", async () => {
    const p = tempProject()
    symlinkSync(`${p.root}/assets/presenters`, `${p.root}/faces`)
    mkdirSync(`${p.root}/renders`)
    linkSync(`${p.root}/assets/voice/welcome.mp3`, `${p.root}/renders/hard.mp3`)
    symlinkSync(`${p.root}/assets/voice/hello.wav`, `${p.root}/renders/soft.wav`)
    const out = await problems(
      p,
      `${header}sets:
  a:
    pairs:
      - { image: ${alice}, audio: assets/voice/welcome.mp3, output: "faces/alice.png" }
${pair("renders/hard.mp3")}
${pair("renders/soft.wav")}
`
    )
    expect(out).toEqual([
      `pipeline.yaml:6:${"      - { image: ".length + alice.length + ", audio: assets/voice/welcome.mp3, output: ".length + 1}: output "faces/alice.png" is the input image of set "a" job 0 (pipeline.yaml:6:${imageColumn}): an output may never overwrite an input`,
      `pipeline.yaml:7:${outputColumn}: output "renders/hard.mp3" is the input audio of set "a" job 0 (pipeline.yaml:6:${audioColumn}): an output may never overwrite an input`,
      `pipeline.yaml:8:${outputColumn}: output "renders/soft.wav" is the input audio of set "a" job 1 (pipeline.yaml:7:${audioColumn}): an output may never overwrite an input`
    ])
  })

  it("refuses an output inside the pipeline's state folder, an existing folder, or a path through a file", async () => {
    const p = tempProject()
    mkdirSync(`${p.root}/renders/taken.mp4`, { recursive: true })
    const out = await problems(
      p,
      `${header}sets:
  a:
    pairs:
${pair(".clapper/test/journal.jsonl")}
${pair("renders/taken.mp4")}
${pair(`${alice}/x.mp4`)}
`
    )
    expect(out).toEqual([
      `pipeline.yaml:6:${outputColumn}: output ".clapper/test/journal.jsonl" is inside the pipeline's state folder .clapper/test/, where Clapper keeps its journal and caches: choose another folder`,
      `pipeline.yaml:7:${outputColumn}: output "renders/taken.mp4" is an existing folder: an output is a file; end the template with a file name, like {{ image.stem }}.mp4`,
      `pipeline.yaml:8:${outputColumn}: output "${alice}/x.mp4" goes through "alice.png", which is a file, not a folder: the run could not create the output there`
    ])
  })

  it("an existing state folder reached through a symlink is still the state folder", async () => {
    const p = tempProject()
    mkdirSync(`${p.root}/.clapper/test`, { recursive: true })
    symlinkSync(`${p.root}/.clapper/test`, `${p.root}/state`)
    const out = await problems(p, `${header}sets:\n  a:\n    pairs:\n${pair("state/x.mp4")}\n`)
    expect(out).toEqual([
      `pipeline.yaml:6:${outputColumn}: output "state/x.mp4" is inside the pipeline's state folder .clapper/test/, where Clapper keeps its journal and caches: choose another folder`
    ])
  })

  it("an output rendered from a data row names the row", async () => {
    const p = tempProject()
    p.write("data.csv", "id,presenter\nalice,alice.png\n")
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    rows: data.csv\n    image: assets/presenters/{{ row.presenter }}\n    audio: ${hello}\n    output: assets/presenters/{{ row.id }}.png\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:8:13: output "${alice}" is the input image of set "a" job 0 (data.csv:2:1): an output may never overwrite an input (from the row at data.csv:2:1)`
    ])
  })
})

describe("file name lengths", () => {
  it('a file name over 245 bytes of UTF-8 (255 less the run\'s "<name>.copy.part") is refused with both lengths', async () => {
    const p = tempProject()
    // 121 × "é" (2 bytes each) + ".mp4" = 246 bytes, but only 125 characters.
    const name = `${"é".repeat(121)}.mp4`
    const fits = `${"é".repeat(120)}.mp4x`
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    pairs:\n${pair(`out/${name}`)}\n      - { image: ${alice}, audio: assets/voice/welcome.mp3, output: "out/${fits}" }\n`
    )
    expect(out).toEqual([
      // Long names are cut in the message: their start and their end.
      `pipeline.yaml:6:${outputColumn}: output "out/${"é".repeat(60)}…${"é".repeat(8)}.mp4": its file name "${"é".repeat(24)}…${"é".repeat(8)}.mp4" is 246 bytes in UTF-8; the longest allowed is 245 (the file system's 255 per name, less 10 for the temporary "<name>.copy.part" the run writes first): shorten it`
    ])
  })

  it("a folder name over 255 bytes is refused", async () => {
    const p = tempProject()
    const folder = "d".repeat(256)
    const out = await problems(p, `${header}sets:\n  a:\n    pairs:\n${pair(`${folder}/x.mp4`)}\n`)
    expect(out).toEqual([
      `pipeline.yaml:6:${outputColumn}: output "${"d".repeat(64)}…${"d".repeat(6)}/x.mp4": its folder name "${"d".repeat(24)}…${"d".repeat(12)}" is 256 bytes in UTF-8, over the file system's 255 per name: shorten it`
    ])
  })
})
