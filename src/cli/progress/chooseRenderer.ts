import { Effect, type Scope } from "effect"
import { makeLiveRenderer } from "./liveRenderer.ts"
import { makeNdjsonRenderer } from "./ndjsonRenderer.ts"
import { makePlainRenderer } from "./plainRenderer.ts"
import type { ProgressRenderer } from "./ProgressRenderer.ts"
import { noColorRequested } from "./terminalText.ts"

/** Where the live display reads the terminal's width and hears of a resize: `process.stdout` fits. */
export interface TerminalSize {
  /** The width now; undefined or 0 when unknown. */
  readonly columns: number | undefined
  on(event: "resize", listener: () => void): unknown
  off(event: "resize", listener: () => void): unknown
}

export interface ChooseRendererOptions {
  /** `--json`: NDJSON events, whatever stdout is. */
  readonly json: boolean
  /** Whether stdout is a terminal (`process.stdout.isTTY`). */
  readonly isTTY: boolean
  /** The terminal's width when `terminal` does not know it (`process.stdout.columns` at the start); 80 when unknown. */
  readonly columns?: number
  /** The terminal, read on each draw of the live display and watched for resizes; `process.stdout` by default. */
  readonly terminal?: TerminalSize
  /** No colour; defaults to whether `NO_COLOR` is set (and not empty) in `process.env`. */
  readonly noColor?: boolean
  /** Writes to stdout. Every renderer writes only here. */
  readonly write: (text: string) => void
  /** Writes to stderr. Accepted for the caller's convenience; no renderer uses it. */
  readonly writeErr?: (text: string) => void
}

/**
 * The renderer for this invocation: NDJSON with `--json`, the live display on a terminal, plain
 * lines otherwise. The live display's ticker (and its resize listener) lives in the scope, and
 * closing the scope closes the renderer (the frame stays, the cursor comes back).
 */
export const chooseRenderer = (options: ChooseRendererOptions): Effect.Effect<ProgressRenderer, never, Scope.Scope> => {
  if (options.json) return Effect.succeed(makeNdjsonRenderer(options.write))
  if (!options.isTTY) return makePlainRenderer(options.write)
  const fallback = options.columns !== undefined && options.columns > 0 ? options.columns : 80
  const terminal: TerminalSize = options.terminal ?? process.stdout
  return makeLiveRenderer({
    write: options.write,
    columns: () => {
      const now = terminal.columns
      return now !== undefined && now > 0 ? now : fallback
    },
    onResize: (listener) => {
      terminal.on("resize", listener)
      return () => {
        terminal.off("resize", listener)
      }
    },
    color: !(options.noColor ?? noColorRequested(process.env))
  })
}
