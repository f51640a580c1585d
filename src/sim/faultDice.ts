import { Effect, Option, Ref } from "effect"
import { draw, seedState } from "./seededRandom.ts"

/**
 * Every random fault decision of a run. Each kind of fault has its own seeded stream, so turning
 * one fault on or off never shifts the decisions of another: the same seed and the same request
 * order give the same faults.
 */
export type FaultStream = "errors" | "resets" | "jobs" | "truncation"

export interface FaultDice {
  /** `count` numbers in [0, 1) drawn together from `stream` (no other draw can interleave). */
  readonly roll: (stream: FaultStream, count: number) => Effect.Effect<ReadonlyArray<number>>
}

export const makeFaultDice = (seed: number): Effect.Effect<FaultDice> =>
  Effect.gen(function* () {
    const streams: ReadonlyArray<FaultStream> = ["errors", "resets", "jobs", "truncation"]
    const states = yield* Ref.make<Readonly<Record<FaultStream, number>>>(
      Object.fromEntries(streams.map((s) => [s, seedState(seed, s)])) as Record<FaultStream, number>
    )
    return {
      roll: (stream, count) =>
        Ref.modify(states, (current) => {
          const [values, next] = draw(current[stream], count)
          return [values, { ...current, [stream]: next }]
        })
    }
  })

const at = (values: ReadonlyArray<number>, index: number): number => values[index] ?? 0

const pickFrom = <A>(items: ReadonlyArray<A>, unit: number): A | undefined =>
  items[Math.min(items.length - 1, Math.floor(unit * items.length))]

/** An API request answered 500, 502 or 503 before anything happens (None: served normally). */
export const decideServerError = (dice: FaultDice, rate: number): Effect.Effect<Option.Option<500 | 502 | 503>> =>
  rate <= 0
    ? Effect.succeed(Option.none())
    : Effect.map(dice.roll("errors", 2), (values) =>
        at(values, 0) < rate ? Option.fromNullable(pickFrom([500, 502, 503] as const, at(values, 1))) : Option.none()
      )

/** Whether an accepted POST /v1/videos loses its connection after the job was created. */
export const decideReset = (dice: FaultDice, rate: number): Effect.Effect<boolean> =>
  rate <= 0 ? Effect.succeed(false) : Effect.map(dice.roll("resets", 1), (values) => at(values, 0) < rate)

/** How a video job that will fail fails: its `error.code` and how far along it gets (0..1). */
export interface PlannedFailure {
  readonly code: string
  readonly atFraction: number
}

export const decideJobFailure = (
  dice: FaultDice,
  rate: number,
  codes: ReadonlyArray<string>
): Effect.Effect<Option.Option<PlannedFailure>> =>
  rate <= 0 || codes.length === 0
    ? Effect.succeed(Option.none())
    : Effect.map(dice.roll("jobs", 3), (values) => {
        const code = pickFrom(codes, at(values, 1))
        return at(values, 0) < rate && code !== undefined
          ? // Fail somewhere between 10% and 90% of the way, never exactly at the start or the end.
            Option.some({ code, atFraction: 0.1 + 0.8 * at(values, 2) })
          : Option.none()
      })

/**
 * Whether a download of `length` bytes is cut short, and after how many bytes (1..length-1).
 * A body of fewer than 2 bytes cannot be cut.
 */
export const decideTruncation = (dice: FaultDice, rate: number, length: number): Effect.Effect<Option.Option<number>> =>
  rate <= 0 || length < 2
    ? Effect.succeed(Option.none())
    : Effect.map(dice.roll("truncation", 2), (values) =>
        at(values, 0) < rate ? Option.some(1 + Math.floor(at(values, 1) * (length - 1))) : Option.none()
      )
