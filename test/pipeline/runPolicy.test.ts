/**
 * The run's timing values and the provider's quotas: bad values are refused at their place, good
 * ones decoded to what the runtime reads (`Duration`s, `Rate`s).
 */
import { Duration } from "effect"
import { describe, expect, it } from "vitest"
import { loadPipelinePromise } from "../../src/index.ts"
import { tempProject } from "../support/tempProject.ts"
import { alice, header, hello, problems } from "./problems.ts"

const sets = `sets:\n  a: { pairs: [{ image: ${alice}, audio: ${hello} }] }\n`

describe("run timing", () => {
  it("refuses 0 for the timeout, the poll interval, the patience; below 1 for attempts and concurrency", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}run:
  timeout: 0s
  concurrency: 0
  poll: { interval: 0ms, maxInterval: 0.0s }
  retry: { attempts: 0, patience: 0m }
${sets}`
    )
    expect(out).toEqual([
      `pipeline.yaml:5:16: run.concurrency: expected a whole number above 0`,
      `pipeline.yaml:7:22: run.retry.attempts: expected a whole number above 0`,
      `pipeline.yaml:7:35: run.retry.patience: expected a duration above 0 (like 500ms, 5s, 30m or 1h), got "0m"`,
      `pipeline.yaml:6:21: run.poll.interval: expected a duration above 0 (like 500ms, 5s, 30m or 1h), got "0ms"`,
      `pipeline.yaml:6:39: run.poll.maxInterval: expected a duration above 0 (like 500ms, 5s, 30m or 1h), got "0.0s"`,
      `pipeline.yaml:4:12: run.timeout: expected a duration above 0 (like 500ms, 5s, 30m or 1h), got "0s"`
    ])
  })

  it("allows 0 for the retry delays", async () => {
    const p = tempProject()
    const file = p.write("pipeline.yaml", `${header}run:\n  retry: { initialDelay: 0s, maxDelay: 0ms }\n${sets}`)
    const { spec } = await loadPipelinePromise(file)
    expect(spec.run?.retry?.initialDelay).toEqual(Duration.zero)
    expect(spec.run?.retry?.maxDelay).toEqual(Duration.zero)
  })

  it("refuses an upper bound below its lower bound, at the upper one when both are written", async () => {
    const p = tempProject()
    const poll = "  poll: { interval: 10s, maxInterval: 5s }"
    const retry = "  retry: { initialDelay: 2s, maxDelay: 1500ms }"
    const out = await problems(p, `${header}run:\n${poll}\n${retry}\n${sets}`)
    expect(out).toEqual([
      `pipeline.yaml:4:${poll.indexOf("5s") + 1}: run.poll.maxInterval (5s) is shorter than run.poll.interval (10s): the longest time between two status checks cannot be below the shortest; raise maxInterval to 10s or more, or lower interval to 5s or less`,
      `pipeline.yaml:5:${retry.indexOf("1500ms") + 1}: run.retry.maxDelay (1500ms) is shorter than run.retry.initialDelay (2s): the longest backoff delay cannot be below the first; raise maxDelay to 2s or more, or lower initialDelay to 1500ms or less`
    ])
  })

  it("compares a bound given alone with the other's default", async () => {
    const p = tempProject()
    const alone = await problems(p, `${header}run:\n  poll: { interval: 1m }\n  retry: { maxDelay: 500ms }\n${sets}`)
    expect(alone).toEqual([
      `pipeline.yaml:4:21: run.poll.interval (1m) is longer than run.poll.maxInterval (30s by default): the longest time between two status checks cannot be below the shortest; set maxInterval to 1m or more, or lower interval to 30s or less`,
      `pipeline.yaml:5:22: run.retry.maxDelay (500ms) is shorter than run.retry.initialDelay (1s by default): the longest backoff delay cannot be below the first; raise maxDelay to 1s or more, or set initialDelay to 500ms or less`
    ])
    const equal = p.write(
      "pipeline.yaml",
      `${header}run:\n  poll: { interval: 30s }\n  retry: { initialDelay: 60s, maxDelay: 60s }\n${sets}`
    )
    expect((await loadPipelinePromise(equal)).spec.run?.poll?.interval).toEqual(Duration.seconds(30))
  })

  it("the defaults the schema documents (and compares a lone bound with) are the runtime's", async () => {
    const { defaultRunSettings } = await import("../../src/runtime/runSettings.ts")
    const { DurationText, runDefaults } = await import("../../src/pipeline/schema.ts")
    const { Schema } = await import("effect")
    const ms = (text: string) => Duration.toMillis(Schema.decodeSync(DurationText)(text))
    const { retry, poll, timeout } = defaultRunSettings
    expect({
      initialDelay: ms(runDefaults.initialDelay),
      maxDelay: ms(runDefaults.maxDelay),
      patience: ms(runDefaults.patience),
      interval: ms(runDefaults.interval),
      maxInterval: ms(runDefaults.maxInterval),
      timeout: ms(runDefaults.timeout)
    }).toEqual({
      initialDelay: Duration.toMillis(retry.initialDelay),
      maxDelay: Duration.toMillis(retry.maxDelay),
      patience: Duration.toMillis(retry.patience),
      interval: Duration.toMillis(poll.interval),
      maxInterval: Duration.toMillis(poll.maxInterval),
      timeout: Duration.toMillis(timeout)
    })
  })

  it("decodes run.retry.patience to a Duration", async () => {
    const p = tempProject()
    const file = p.write("pipeline.yaml", `${header}run:\n  retry: { patience: 15m }\n${sets}`)
    expect((await loadPipelinePromise(file)).spec.run?.retry?.patience).toEqual(Duration.minutes(15))
  })
})

describe("provider.limits", () => {
  it("decodes each kind's rate to { count, perMs }", async () => {
    const p = tempProject()
    const file = p.write(
      "pipeline.yaml",
      `${header}provider:\n  limits:\n    generation: 10/min\n    captions: 200/minute\n    status: 5/s\n    list: 1/30s\n    content: 300/h\n${sets}`
    )
    expect((await loadPipelinePromise(file)).spec.provider?.limits).toEqual({
      generation: { count: 10, perMs: 60_000 },
      captions: { count: 200, perMs: 60_000 },
      status: { count: 5, perMs: 1000 },
      list: { count: 1, perMs: 30_000 },
      content: { count: 300, perMs: 3_600_000 }
    })
  })

  it("refuses a bad rate at its value, naming the forms, and an unknown kind at its key with a suggestion", async () => {
    const p = tempProject()
    const limits = "  limits: { generation: fast, captoins: 100/min, status: 0/s }"
    const out = await problems(p, `${header}provider:\n${limits}\n${sets}`)
    const forms = `expected a rate like 2/min, 100/min, 5/s or 1/30s (a count above 0, "/", an optional multiple, and a unit: ms, s, min, h or d)`
    expect(out).toEqual([
      `pipeline.yaml:4:${limits.indexOf("captoins") + 1}: unknown key "captoins" in provider.limits (did you mean "captions"?)`,
      `pipeline.yaml:4:${limits.indexOf("fast") + 1}: provider.limits.generation: ${forms}, got "fast"`,
      `pipeline.yaml:4:${limits.indexOf("0/s") + 1}: provider.limits.status: ${forms}, got "0/s"`
    ])
  })
})
