import type { Effect } from "effect"
import type { RunEvent } from "../../runtime/events.ts"

/**
 * Draws the events of one run for a person or a program. One renderer per run; the three kinds
 * (live display, plain lines, NDJSON) are made by `chooseRenderer`.
 */
export interface ProgressRenderer {
  /** Takes one event, in the order the run emitted them. Never fails. */
  readonly onEvent: (event: RunEvent) => Effect.Effect<void>
  /**
   * Called once at the end (after `run.finished`, or on interruption): stops redrawing, leaves
   * the final frame on screen and prints nothing more. Safe to call twice; events after it are
   * ignored.
   */
  readonly close: Effect.Effect<void>
}
