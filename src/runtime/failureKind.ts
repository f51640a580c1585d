/**
 * How the runtime treats each client error: retry it or not, and whether a failed submit may
 * nevertheless have created a (paid) video at the provider.
 */
import { Data, Duration } from "effect"
import type { MirageError } from "../mirage/MirageError.ts"
import type { StateIoError } from "../state/journal.ts"
import type { JobStep } from "./events.ts"

export type FailureKind =
  | { readonly _tag: "Fatal" }
  | {
      readonly _tag: "Transient"
      /** The server's own wait, when it named one (429 Retry-After). */
      readonly retryAfter: Duration.Duration | undefined
      /** A submit that may have reached the server: retrying it may render twice. */
      readonly unknownOutcome: boolean
    }

const fatal: FailureKind = { _tag: "Fatal" }
const transient = (unknownOutcome = false, retryAfter?: Duration.Duration): FailureKind => ({
  _tag: "Transient",
  retryAfter,
  unknownOutcome
})

/** Steps whose request creates a paid video at the provider. */
const creates = (step: JobStep) => step === "submit" || step === "captions"

export const failureKind = (error: MirageError | CorruptDownload | StateIoError, step: JobStep): FailureKind => {
  switch (error._tag) {
    case "RateLimited":
      // A 429 is refused before anything is done: always safe to repeat.
      return transient(false, error.retryAfter)
    case "ServerError":
      // The body was sent; a 5xx does not prove that nothing was created.
      return transient(creates(step))
    case "TransportError":
      return transient(creates(step) && error.bodySent)
    case "IncompleteDownload":
    // The storage's refusal (an expired link, a file not there yet): the API is asked again.
    case "StorageRefused":
      return transient()
    case "UnexpectedResponse":
      // A 2xx that does not decode (cut off, a gateway's HTML page) is an answer lost: for a
      // create call the video may exist, so it is reconciled like a lost answer before any resend.
      if (error.status >= 200 && error.status < 300) return transient(creates(step))
      return error.status >= 500 ? transient(creates(step)) : fatal
    default:
      return fatal
  }
}

/** True when a failed submit certainly created nothing at the provider (a refusal, not a lost answer). */
export const certainlyNotCreated = (error: MirageError | CorruptDownload | StateIoError): boolean => {
  const kind = failureKind(error, "submit")
  return kind._tag === "Fatal" || !kind.unknownOutcome
}

/** A downloaded file that is not a whole MP4: empty, shorter than announced, or no `ftyp` box. */
export class CorruptDownload extends Data.TaggedError("CorruptDownload")<{
  readonly videoId: string
  readonly reason: string
}> {
  override get message() {
    return `the file downloaded for ${this.videoId} is not a valid MP4 (${this.reason})`
  }
}
