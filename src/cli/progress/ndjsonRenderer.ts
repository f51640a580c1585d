import { Effect } from "effect"
import { ndjsonLine } from "./ndjson.ts"
import type { ProgressRenderer } from "./ProgressRenderer.ts"

/** `--json`: each event as one line of JSON on stdout (`write`), nothing else. */
export const makeNdjsonRenderer = (write: (text: string) => void): ProgressRenderer => ({
  onEvent: (event) => Effect.sync(() => write(ndjsonLine(event))),
  close: Effect.void
})
