/**
 * The runs of a pipeline as the report reads them, through the state port's run history: the
 * list (number, start, end, command, who, how it ended) and one run's events, streamed (a
 * 10,000-job run has many).
 */
import { Effect, type Stream } from "effect"
import { RunEvent } from "../runtime/events.ts"
import type { StateIoError } from "../state/journal.ts"
import type { RunHistoryUnreadable, RunNotFound, RunRecord } from "../state/runHistory.ts"
import type { StateRef, StateStoreService } from "../state/StateStore.ts"
import type { ReportRun } from "./reportData.ts"
import { shellWord } from "../app/shellWord.ts"

export interface RecordedRuns {
  /** Every recorded run, oldest first, and what was tolerated reading them. */
  readonly runs: Effect.Effect<
    { readonly runs: ReadonlyArray<ReportRun>; readonly warnings: ReadonlyArray<string> },
    RunHistoryUnreadable | StateIoError
  >
  readonly events: (n: number) => Stream.Stream<RunEvent, RunHistoryUnreadable | RunNotFound | StateIoError>
}

/** An argument as a shell would need it typed: quoted when it has a space or a quote. */

const endedWords = (run: RunRecord): string => {
  const exit = run.exitCode === undefined ? "" : `, exit ${run.exitCode}`
  switch (run.outcome) {
    case "finished":
      return `finished${exit}`
    case "interrupted":
      return `interrupted${exit} (the next run picks it up)`
    case "refused":
      return `refused before its first job${run.message ? `: ${run.message}` : ""}`
    case "killed":
      return "killed or crashed before it finished (the next run picks it up)"
  }
}

export const reportRunOf = (run: RunRecord): ReportRun => ({
  n: run.n,
  startedAt: run.startedAt,
  finishedAt: run.finishedAt,
  command: run.command.map(shellWord).join(" "),
  ended: endedWords(run),
  who: `${run.user}@${run.host}`,
  spentUsd: run.spentUsd
})

/** The run history of `ref` in `store`. */
export const recordedRuns = (store: StateStoreService, ref: StateRef): RecordedRuns => ({
  runs: Effect.map(store.runs(ref), (list) => ({ runs: list.runs.map(reportRunOf), warnings: list.warnings })),
  events: (n) => store.runEvents(ref, n, RunEvent)
})
