import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { expandPipelinePromise, loadPipelinePromise } from "../../src/index.ts"
import { tempProject } from "../support/tempProject.ts"

const expand = async (yaml: string, files: Record<string, string> = {}) => {
  const p = tempProject()
  for (const [path, content] of Object.entries(files)) p.write(path, content)
  const pipeline = await loadPipelinePromise(p.write("pipeline.yaml", yaml))
  return (await expandPipelinePromise(pipeline)).map((job) => ({
    id: job.id,
    set: job.set,
    index: job.index,
    image: job.image.relative,
    audio: job.audio?.relative,
    speech: job.speech,
    overlay: job.overlay?.text
  }))
}

describe("expansion of sets into jobs", () => {
  it("keeps the file's order of sets, pairs, then the matrix (images outer, sorted glob matches)", async () => {
    const jobs = await expand(`version: 1
name: t
output: out/{{ set }}/{{ index }}-{{ image.stem }}-{{ audio.stem }}.{{ audio.ext }}.mp4
sets:
  zeta:
    pairs:
      - { image: assets/presenters/bob.jpg, audio: assets/voice/welcome.mp3 }
  alpha:
    matrix:
      image: [assets/presenters/carol.png, assets/presenters/alice.png]
      audio: assets/locales/*.wav
    exclude:
      - { image: assets/presenters/alice.png, audio: assets/locales/fr.wav }
      - { audio: assets/locales/de.wav }
`)
    expect(jobs.map((j) => j.id)).toEqual([
      "out/zeta/0-bob-welcome.mp3.mp4",
      "out/alpha/0-carol-en.wav.mp4",
      "out/alpha/1-carol-fr.wav.mp4",
      "out/alpha/2-alice-en.wav.mp4"
    ])
  })

  it("overlay texts may name the job's image and audio, like its output path", async () => {
    const jobs = await expand(`version: 1
name: t
sets:
  promo:
    matrix: { image: [assets/presenters/alice.png, assets/presenters/carol.png], audio: assets/voice/hello.wav }
    overlays:
      - { text: "{{ image.stem | upper }} says {{ audio.stem }}" }
    output: out/{{ image.stem }}-{{ overlay.index }}.mp4
`)
    expect(jobs.map((j) => [j.id, j.overlay])).toEqual([
      ["out/alice-0.mp4", "ALICE says hello"],
      ["out/carol-0.mp4", "CAROL says hello"]
    ])
  })

  it("reads rows from CSV, JSON and YAML, with vars and filters", async () => {
    const yaml = (rows: string) => `version: 1
name: t
vars: { campaign: Spring Sale }
sets:
  people:
    rows: ${rows}
    image: assets/presenters/{{ row.face }}.png
    audio: assets/voice/hello.wav
    output: out/{{ vars.campaign | slug }}/{{ row.name | slug }}.mp4
`
    const csv = await expand(yaml("people.csv"), { "people.csv": "name,face\nZoë Ådams,alice\nBob O'Neil,carol\n" })
    const json = await expand(yaml("people.json"), {
      "people.json": '[{"name":"Zoë Ådams","face":"alice"},{"name":"Bob O\'Neil","face":"carol"}]'
    })
    const yml = await expand(yaml("people.yaml"), {
      "people.yaml": "- { name: Zoë Ådams, face: alice }\n- { name: Bob O'Neil, face: carol }\n"
    })
    const expected = [
      {
        id: "out/spring-sale/zoe-adams.mp4",
        set: "people",
        index: 0,
        image: "assets/presenters/alice.png",
        audio: "assets/voice/hello.wav"
      },
      {
        id: "out/spring-sale/bob-o-neil.mp4",
        set: "people",
        index: 1,
        image: "assets/presenters/carol.png",
        audio: "assets/voice/hello.wav"
      }
    ]
    expect(csv).toEqual(expected)
    expect(json).toEqual(expected)
    expect(yml).toEqual(expected)
  })

  it("takes the pair's output over the set's over the file's over the default", async () => {
    const jobs = await expand(`version: 1
name: t
output: top/{{ image.stem }}.mp4
sets:
  a:
    pairs:
      - { image: assets/presenters/alice.png, audio: assets/voice/hello.wav, output: pair.mp4 }
      - { image: assets/presenters/bob.jpg, audio: assets/voice/hello.wav }
  b:
    output: set/{{ image.stem }}.mp4
    pairs: [{ image: assets/presenters/alice.png, audio: assets/voice/hello.wav }]
`)
    expect(jobs.map((j) => j.id)).toEqual(["pair.mp4", "top/bob.mp4", "set/alice.mp4"])
    const defaults = await expand(`version: 1
name: t
sets:
  a: { pairs: [{ image: assets/presenters/alice.png, audio: assets/voice/hello.wav }] }
`)
    expect(defaults.map((j) => j.id)).toEqual(["renders/a/alice--hello.mp4"])
  })

  it("a matrix yields |images| × |audios| jobs minus the excluded, in a stable order; a spoken one, |images| jobs", async () => {
    const images = ["assets/presenters/alice.png", "assets/presenters/bob.jpg", "assets/presenters/carol.png"]
    const audios = ["assets/locales/de.wav", "assets/locales/en.wav", "assets/locales/fr.wav", "assets/voice/hello.wav"]
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(images, { minLength: 1 }),
        fc.subarray(audios, { minLength: 1 }),
        fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined }),
        fc.boolean(),
        async (imgs, auds, excludeAt, spoken) => {
          const excluded = excludeAt && [imgs[excludeAt[0] % imgs.length]!, auds[excludeAt[1] % auds.length]!]
          const yaml = spoken
            ? `version: 1
name: t
output: out/{{ image.stem }}.mp4
sets:
  m:
    matrix:
      image: [${imgs.join(", ")}]
    speech: { voice: v_narrator, text: "I am {{ image.stem }}, job {{ index }}." }
${excluded ? `    exclude: [{ image: ${excluded[0]} }]\n` : ""}`
            : `version: 1
name: t
output: out/{{ image.stem }}-{{ audio.stem }}.mp4
sets:
  m:
    matrix:
      image: [${imgs.join(", ")}]
      audio: [${auds.join(", ")}]
${excluded ? `    exclude: [{ image: ${excluded[0]}, audio: ${excluded[1]} }]\n` : ""}`
          const jobs = await expand(yaml)
          const expected = spoken
            ? imgs.filter((i) => !(excluded && i === excluded[0])).map((i) => [i, undefined] as const)
            : imgs
                .flatMap((i) => auds.map((a) => [i, a] as const))
                .filter(([i, a]) => !(excluded && i === excluded[0] && a === excluded[1]))
          expect(jobs.map((j) => [j.image, j.audio])).toEqual(expected)
          expect(jobs.map((j) => j.index)).toEqual(expected.map((_, n) => n))
          if (spoken) {
            const stem = (image: string) => image.slice(image.lastIndexOf("/") + 1).replace(/\.[^.]*$/, "")
            expect(jobs.map((j) => j.speech?.text)).toEqual(expected.map(([i], n) => `I am ${stem(i)}, job ${n}.`))
          }
        }
      ),
      { numRuns: 25 }
    )
  })

  it("a spoken matrix: one job per image, the script templated per image, the spoken sets' default output", async () => {
    const jobs = await expand(`version: 1
name: t
vars: { season: spring }
sets:
  intro:
    matrix: { image: "assets/presenters/*.{png,jpg}" }
    exclude:
      - { image: assets/presenters/bob.jpg }
    speech:
      voice: v_narrator
      text: "Hi, I am {{ image.stem }} and this is our {{ vars.season }} launch."
`)
    expect(jobs).toEqual([
      {
        id: "renders/intro/alice--0.mp4",
        set: "intro",
        index: 0,
        image: "assets/presenters/alice.png",
        audio: undefined,
        speech: { voice: "v_narrator", text: "Hi, I am alice and this is our spring launch.", model: "mirage-audio-1" }
      },
      {
        id: "renders/intro/carol--1.mp4",
        set: "intro",
        index: 1,
        image: "assets/presenters/carol.png",
        audio: undefined,
        speech: { voice: "v_narrator", text: "Hi, I am carol and this is our spring launch.", model: "mirage-audio-1" }
      }
    ])
  })

  it("spoken rows and pairs: the script and voice know the job's image (for rows, the row's resolved image)", async () => {
    const jobs = await expand(
      `version: 1
name: t
vars: { season: spring }
sets:
  people:
    rows: people.csv
    image: assets/presenters/{{ row.face }}
    speech:
      voice: "v_{{ image.stem }}"
      text: "Hi {{ row.name }}, I am {{ image.stem }} ({{ image.name }}, {{ image.ext }}) at {{ image.path }}."
  duo:
    pairs:
      - { image: assets/presenters/carol.png }
      - { image: assets/presenters/bob.jpg, audio: assets/voice/hello.wav }
      - { image: "assets/presenters/{{ vars.season }}.png" }
    speech: { voice: v_narrator, text: "I am {{ image.stem }}, pair {{ index }}, this {{ vars.season }}." }
`,
      { "people.csv": "name,face\nZoë,alice.png\nBob,bob.jpg\n", "assets/presenters/spring.png": "" }
    )
    const speech = (voice: string, text: string) => ({ voice, text, model: "mirage-audio-1" })
    expect(jobs).toEqual([
      {
        id: "renders/people/alice--0.mp4",
        set: "people",
        index: 0,
        image: "assets/presenters/alice.png",
        audio: undefined,
        speech: speech("v_alice", "Hi Zoë, I am alice (alice.png, png) at assets/presenters/alice.png.")
      },
      {
        id: "renders/people/bob--1.mp4",
        set: "people",
        index: 1,
        image: "assets/presenters/bob.jpg",
        audio: undefined,
        speech: speech("v_bob", "Hi Bob, I am bob (bob.jpg, jpg) at assets/presenters/bob.jpg.")
      },
      {
        id: "renders/duo/carol--0.mp4",
        set: "duo",
        index: 0,
        image: "assets/presenters/carol.png",
        audio: undefined,
        speech: speech("v_narrator", "I am carol, pair 0, this spring.")
      },
      {
        id: "renders/duo/bob--1.mp4",
        set: "duo",
        index: 1,
        image: "assets/presenters/bob.jpg",
        audio: "assets/voice/hello.wav",
        speech: undefined
      },
      {
        id: "renders/duo/spring--2.mp4",
        set: "duo",
        index: 2,
        image: "assets/presenters/spring.png",
        audio: undefined,
        speech: speech("v_narrator", "I am spring, pair 2, this spring.")
      }
    ])
  })
})
