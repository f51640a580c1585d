/**
 * One job's result, as a campaign's user hands it on: which output belongs to which data row,
 * where it is, what it cost, and what failed and why. `clapper results` writes these as CSV, JSON
 * or JSON Lines; the library returns them; the HTML report is drawn from them. A Schema, so the
 * JSON a user keeps can be decoded again and the README's field table is generated from it.
 */
import { Schema } from "effect"

const described = <S extends Schema.Schema.Any>(schema: S, description: string) => schema.annotations({ description }) as S

/** An optional field: absent or of its type (never `undefined`: results are JSON). */
const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** Where a job stands, from the state and the files on disk. */
export const ResultState = Schema.Literal("done", "failed", "in-flight", "to-do", "missing").annotations({
  identifier: "ResultState",
  description:
    "done: the output is on disk as recorded; failed: the last attempt failed; in-flight: rendering at the provider; to-do: never rendered, or its inputs changed since; missing: rendered, but the output file was deleted or changed since"
})
export type ResultState = typeof ResultState.Type

export const JobResult = Schema.Struct({
  job: described(Schema.String, "the job's id: its output path relative to the project root"),
  set: described(Schema.String, "its set"),
  index: described(Schema.Number, "its position in the set, from 0"),
  row: optional(
    described(
      Schema.Array(Schema.Tuple(Schema.String, Schema.String)),
      "for `rows` sets: the data row's own columns, as [column, value] in the data file's order"
    )
  ),
  output: described(Schema.String, "the output file, relative to the project root"),
  state: ResultState,
  videoId: optional(described(Schema.String, "the provider's id of the video")),
  shareLinkUrl: optional(described(Schema.String, "the provider's public share link of the video, when it gave one")),
  durationSeconds: described(Schema.Number, "the voice track's length: the video's length"),
  estimatedCostUsd: described(Schema.Number, "this job's render and captions at published prices"),
  attempts: described(Schema.Number, "videos accepted by the provider for this render so far (each was paid for); 0 if never submitted"),
  error: optional(
    described(
      Schema.Struct({
        step: Schema.String,
        reason: Schema.String,
        code: optional(Schema.String)
      }),
      "the last failure: the step, why in words, and the provider's error code when it gave one"
    )
  )
}).annotations({ identifier: "JobResult", description: "one job's result" })
export type JobResult = typeof JobResult.Type
