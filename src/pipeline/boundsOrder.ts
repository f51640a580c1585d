/**
 * Pairs of durations that bound one another: `run.poll.interval` ≤ `run.poll.maxInterval` and
 * `run.retry.initialDelay` ≤ `run.retry.maxDelay`. The runtime clamps between the two, so a pair in
 * the wrong order silently ignores one of them; it is an error instead, at the value to change.
 * A bound left out takes its documented default (`runDefaults`): `interval: 1m` alone is also
 * wrong, since maxInterval stays 30s.
 */
import { Duration, Schema } from "effect"
import type { Diagnostic } from "./diagnostic.ts"
import { DurationText, runDefaults, type Pipeline } from "./schema.ts"
import { locate, type PathSegment, type YamlSource } from "./yamlSource.ts"

interface Bounds {
  readonly low: { readonly key: string; readonly value: Duration.Duration | undefined; readonly fallback: string }
  readonly high: { readonly key: string; readonly value: Duration.Duration | undefined; readonly fallback: string }
  /** What the two bound, for the message. */
  readonly meaning: string
}

const millisOf = (written: Duration.Duration | undefined, fallback: string): number =>
  Duration.toMillis(written ?? Schema.decodeSync(DurationText)(fallback))

const checkOrder = (source: YamlSource, parent: ReadonlyArray<PathSegment>, bounds: Bounds): Array<Diagnostic> => {
  const { low, high } = bounds
  if (low.value === undefined && high.value === undefined) return []
  if (millisOf(low.value, low.fallback) <= millisOf(high.value, high.fallback)) return []
  const name = (key: string) => [...parent, key].join(".")
  // The value as the user wrote it, or the default it stands for.
  const text = (side: Bounds["low"]) =>
    side.value !== undefined ? String(source.doc.getIn([...parent, side.key]) ?? "").trim() : side.fallback
  const shown = (side: Bounds["low"]) => (side.value !== undefined ? text(side) : `${text(side)} by default`)
  const written = (side: Bounds["low"]) => (side.value !== undefined ? "lower" : "set")
  // The upper bound is reported when it was written (the lower may be a default), else the lower.
  const [reported, comparison] = high.value !== undefined ? [high, "is shorter than"] : [low, "is longer than"]
  const other = reported === high ? low : high
  const fix =
    reported === high
      ? `raise ${high.key} to ${text(low)} or more, or ${written(low)} ${low.key} to ${text(high)} or less`
      : `set ${high.key} to ${text(low)} or more, or lower ${low.key} to ${text(high)} or less`
  return [
    {
      file: source.file,
      ...locate(source, [...parent, reported.key]),
      message: `${name(reported.key)} (${shown(reported)}) ${comparison} ${name(other.key)} (${shown(other)}): ${bounds.meaning}; ${fix}`
    }
  ]
}

/** Every pair of bounds in the wrong order, each at the value to change. */
export const checkBoundsOrder = (source: YamlSource, spec: Pick<Pipeline, "run">): ReadonlyArray<Diagnostic> => [
  ...checkOrder(source, ["run", "poll"], {
    low: { key: "interval", value: spec.run?.poll?.interval, fallback: runDefaults.interval },
    high: { key: "maxInterval", value: spec.run?.poll?.maxInterval, fallback: runDefaults.maxInterval },
    meaning: "the longest time between two status checks cannot be below the shortest"
  }),
  ...checkOrder(source, ["run", "retry"], {
    low: { key: "initialDelay", value: spec.run?.retry?.initialDelay, fallback: runDefaults.initialDelay },
    high: { key: "maxDelay", value: spec.run?.retry?.maxDelay, fallback: runDefaults.maxDelay },
    meaning: "the longest backoff delay cannot be below the first"
  })
]
