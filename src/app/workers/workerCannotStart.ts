import { Data } from "effect"

/** A worker that cannot join its campaign's engine: why, and what to do (nothing was sent). */
export class WorkerCannotStart extends Data.TaggedError("WorkerCannotStart")<{
  readonly reason: string
  readonly fix: string
}> {
  override get message() {
    return `this worker cannot start: ${this.reason}. ${this.fix}`
  }
}
