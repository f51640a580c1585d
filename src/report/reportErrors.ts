/** What can keep a report from being written, each saying what to do instead. */
import { Schema } from "effect"

/** The report may not be written where it was asked to go. */
export class ReportPathRefused extends Schema.TaggedError<ReportPathRefused>()("ReportPathRefused", {
  /** As the user gave it. */
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `report path "${this.path}" ${this.reason}`
  }
}

/** The report could not be written (a full disk, a read-only folder). */
export class ReportWriteError extends Schema.TaggedError<ReportWriteError>()("ReportWriteError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot write the report to ${this.path}: ${this.reason}`
  }
}
