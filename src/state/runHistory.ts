/**
 * The run history: one file per run of a pipeline, `.clapper/<name>/runs/<N>.ndjson`, N counting
 * from 1 (the runner lock makes runs of one pipeline one at a time, so N is the next free number).
 * One JSON object per line:
 *
 * - line 1, the header (`RunHeader`, `"t": "run"`): N, when, the command line as typed (secrets
 *   blanked), user, host, pid, Clapper's version, the selection (`--only`, `--set`, …);
 * - then the run's events (`RunEvent`, `"type": …`), as `clapper run --json` prints them, except a
 *   `job.progress` whose status is the job's previous one (one per poll would bloat the file);
 * - last, when the run ended in any way but a crash or a kill, the end (`RunEnd`, `"t": "end"`):
 *   how it ended, the exit code the CLI gives for it, jobs done and failed, spend. A file without
 *   it is a run that was killed or crashed.
 *
 * Events are buffered and written at least every second and at the end: a crash loses at most
 * the last second of events, never the header (written before the run starts). The history is
 * an account for people, not a record the run depends on (the journal is): once a write fails,
 * the rest of that run's events are dropped rather than stopping the run.
 *
 * The store knows the events only by their envelope (`type`, `at`, `job`, `status`): it lives
 * below the runtime that defines them, so a reader hands it the events' Schema to decode with.
 */
import { Chunk, Effect, Either, type ParseResult, Schema, Stream, type Scope } from "effect"
import { createReadStream } from "node:fs"
import { type FileHandle, mkdir, open, readdir } from "node:fs/promises"
import { hostname, userInfo } from "node:os"
import { join } from "node:path"
import { clapperVersion } from "../mirage/userAgent.ts"
import { schemaProblem, stateIo, writeFully, type StateIoError } from "./journal.ts"

export const runHistoryVersion = 1

/** The folder of a pipeline's run files, inside its state folder. */
export const runsDir = (stateDir: string) => join(stateDir, "runs")
export const runFile = (stateDir: string, n: number) => join(runsDir(stateDir), `${n}.ndjson`)

const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** The selectors a run was given (the shape of the plan's `JobSelection`, which this folder cannot import). */
export const RecordedSelection = Schema.Struct({
  only: optional(Schema.Array(Schema.String)),
  sets: optional(Schema.Array(Schema.String)),
  limit: optional(Schema.Number),
  retryFailed: optional(Schema.Boolean)
})
export type RecordedSelection = typeof RecordedSelection.Type

/** The first line of a run file. */
export const RunHeader = Schema.Struct({
  t: Schema.Literal("run"),
  version: Schema.Literal(runHistoryVersion),
  n: Schema.Int.pipe(Schema.positive()),
  /** ISO 8601. */
  startedAt: Schema.String,
  /** The command line as typed (`["clapper", "run", "pipelines/x.yaml", "--sim"]`), secrets blanked. */
  command: Schema.Array(Schema.String),
  user: Schema.String,
  host: Schema.String,
  pid: Schema.Int,
  clapperVersion: Schema.String,
  selection: optional(RecordedSelection)
}).annotations({ identifier: "RunHeader" })
export type RunHeader = typeof RunHeader.Type

/**
 * How a run ended: `finished` (it ran to its summary, whatever its jobs did), `interrupted`
 * (Ctrl-C, SIGTERM, a library caller's interruption), `refused` (stopped before its first job,
 * e.g. over budget); a run file without an end is `killed` (crashed or killed).
 */
export const RunOutcome = Schema.Literal("finished", "interrupted", "refused", "killed")
export type RunOutcome = typeof RunOutcome.Type

/** The last line of a run that ended (not killed). */
export const RunEnd = Schema.Struct({
  t: Schema.Literal("end"),
  at: Schema.String,
  outcome: Schema.Literal("finished", "interrupted", "refused"),
  /** The exit code `clapper run` gives for this end (0, 1, 2, 130). */
  exitCode: Schema.Int,
  /** Jobs completed in this run. */
  completed: Schema.NonNegativeInt,
  failed: Schema.NonNegativeInt,
  /** Estimated spend of the renders submitted in this run (USD). */
  spentUsd: Schema.Number,
  /** Why a refused or stopped run ended, in words. */
  message: optional(Schema.String)
}).annotations({ identifier: "RunEnd" })
export type RunEnd = typeof RunEnd.Type

/** One past run, as `clapper log` lists it. */
export const RunRecord = Schema.Struct({
  n: Schema.Int,
  startedAt: Schema.String,
  /** The end's time; for a killed run, its last event's. */
  finishedAt: optional(Schema.String),
  command: Schema.Array(Schema.String),
  user: Schema.String,
  host: Schema.String,
  pid: Schema.Int,
  clapperVersion: Schema.String,
  selection: optional(RecordedSelection),
  outcome: RunOutcome,
  /** Absent for a killed run: it never exited on its own. */
  exitCode: optional(Schema.Int),
  completed: Schema.NonNegativeInt,
  failed: Schema.NonNegativeInt,
  /** Absent for a killed run (its summary was never made). */
  spentUsd: optional(Schema.Number),
  message: optional(Schema.String)
}).annotations({ identifier: "RunRecord" })
export type RunRecord = typeof RunRecord.Type

/** A pipeline's past runs, oldest first. */
export interface RunList {
  readonly runs: ReadonlyArray<RunRecord>
  /** Problems tolerated while reading (a torn last line, a run file with no whole header). */
  readonly warnings: ReadonlyArray<string>
}

/** A run file Clapper cannot read as a run: where, and what is wrong. */
export class RunHistoryUnreadable extends Schema.TaggedError<RunHistoryUnreadable>()("RunHistoryUnreadable", {
  file: Schema.String,
  line: Schema.Int,
  reason: Schema.String
}) {
  override get message() {
    return `${this.file}:${this.line}: ${this.reason}. The run history is only an account of past runs: move the file aside to go on.`
  }
}

/** No run of that number is recorded. */
export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  pipeline: Schema.String,
  n: Schema.Number,
  /** The numbers that are recorded. */
  recorded: Schema.Array(Schema.Int)
}) {
  override get message() {
    const known = this.recorded
    const which =
      known.length === 0
        ? "no run is recorded yet"
        : `the runs recorded are ${known.length === 1 ? known[0] : `${known[0]} to ${known.at(-1)}`}`
    return `run ${this.n} of ${this.pipeline} is not recorded: ${which} (clapper log lists them)`
  }
}

/** What the history needs of an event: its envelope. Every `RunEvent` is one. */
export interface HistoryEvent {
  readonly type: string
  readonly at: string
  readonly job?: string
  readonly status?: string
}

/** What the end line says besides its tag; `at` defaults to now. */
export type RunEndFacts = Omit<RunEnd, "t" | "at"> & { readonly at?: string }

/** Writes one run's file, for the life of the scope it was opened in. */
export interface RunHistoryWriter {
  /** This run's number. */
  readonly n: number
  /** Buffers an event (written within a second); a `job.progress` with an unchanged status is left out. */
  readonly record: (event: HistoryEvent) => Effect.Effect<void>
  /** Writes the end line and everything still buffered. Once per run; later calls do nothing. */
  readonly end: (facts: RunEndFacts) => Effect.Effect<void>
}

/** What the header says besides what the writer knows itself. */
export interface RunStart {
  /** The command line as typed; secrets are blanked before it is written. */
  readonly command: ReadonlyArray<string>
  readonly selection?: RecordedSelection | undefined
}

const secretOption = /^--?[\w-]*(key|token|secret|password|passwd|auth)[\w-]*$/i

/**
 * The command line without secrets: the value of an option whose name says it is one
 * (`--api-key X`, `--token=X`), credentials in a URL (`https://user:pass@host`), and any of
 * `secrets` (the key itself, when the caller knows it) wherever it appears.
 */
export const blankSecrets = (argv: ReadonlyArray<string>, secrets: ReadonlyArray<string> = []): ReadonlyArray<string> => {
  const out: Array<string> = []
  let hideNext = false
  for (const arg of argv) {
    if (hideNext) {
      out.push("***")
      hideNext = false
      continue
    }
    const eq = arg.indexOf("=")
    const name = eq > 0 ? arg.slice(0, eq) : arg
    if (secretOption.test(name)) {
      if (eq > 0) out.push(`${name}=***`)
      else {
        out.push(arg)
        hideNext = true
      }
      continue
    }
    let text = arg.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@")
    for (const secret of secrets) if (secret.length > 0) text = text.split(secret).join("***")
    out.push(text)
  }
  return out
}

const currentUser = () => {
  try {
    return userInfo().username
  } catch {
    // No passwd entry for the uid (a container): the environment may still say.
    return process.env["USER"] ?? process.env["LOGNAME"] ?? "unknown"
  }
}

/** Numbers of the run files in a folder, ascending; a missing folder has none. */
const recordedNumbers = (dir: string): Effect.Effect<ReadonlyArray<number>, StateIoError> =>
  Effect.map(
    stateIo(dir, "read", () =>
      readdir(dir).catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return []
        throw e
      })
    ),
    (names) =>
      names
        .flatMap((name) => {
          const m = /^([1-9]\d*)\.ndjson$/.exec(name)
          return m ? [Number(m[1])] : []
        })
        .sort((a, b) => a - b)
  )

/** How often buffered events are written. */
const flushEveryMs = 1000

/**
 * Starts the next run file (its header written before this returns) and a writer that flushes
 * every second and when the scope closes.
 */
export const openRunHistory = (
  stateDir: string,
  start: RunStart,
  startedAt: Date
): Effect.Effect<RunHistoryWriter, StateIoError, Scope.Scope> =>
  Effect.gen(function* () {
    const dir = runsDir(stateDir)
    yield* stateIo(dir, "write", () => mkdir(dir, { recursive: true }))
    const numbers = yield* recordedNumbers(dir)
    let n = (numbers.at(-1) ?? 0) + 1
    const header = (n: number): RunHeader => ({
      t: "run",
      version: runHistoryVersion,
      n,
      startedAt: startedAt.toISOString(),
      command: blankSecrets(start.command),
      user: currentUser(),
      host: hostname(),
      pid: process.pid,
      clapperVersion,
      ...(start.selection ? { selection: start.selection } : {})
    })
    // The runner lock keeps runs of one pipeline apart; an exclusive create makes sure of it.
    const handle = yield* Effect.acquireRelease(
      stateIo(dir, "write", async () => {
        for (;;) {
          try {
            const h = await open(runFile(stateDir, n), "wx")
            await writeFully(h, Buffer.from(`${JSON.stringify(header(n))}\n`))
            return h
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
            n++
          }
        }
      }),
      (h) => Effect.ignore(Effect.tryPromise(() => h.close()))
    )
    return yield* makeWriter(handle, n, runFile(stateDir, n))
  })

const makeWriter = (handle: FileHandle, n: number, file: string): Effect.Effect<RunHistoryWriter, never, Scope.Scope> =>
  Effect.gen(function* () {
    let buffer: Array<string> = []
    let broken = false
    let ended = false
    const lastStatus = new Map<string, string>()
    const writing = yield* Effect.makeSemaphore(1)
    const flush = writing.withPermits(1)(
      Effect.suspend(() => {
        if (buffer.length === 0 || broken) return Effect.void
        const text = buffer.join("")
        buffer = []
        return stateIo(file, "write", () => writeFully(handle, Buffer.from(text))).pipe(
          Effect.catchAll(() => Effect.sync(() => void (broken = true)))
        )
      })
    )
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(flushEveryMs), flush)))
    // Runs before the file closes (finalizers run in reverse): nothing buffered is lost at the end.
    yield* Effect.addFinalizer(() => flush)
    const writer: RunHistoryWriter = {
      n,
      record: (event) =>
        Effect.sync(() => {
          if (ended || broken) return
          if (event.type === "job.progress" && event.job !== undefined && event.status !== undefined) {
            if (lastStatus.get(event.job) === event.status) return
            lastStatus.set(event.job, event.status)
          }
          buffer.push(`${JSON.stringify(event)}\n`)
        }),
      end: (facts) =>
        Effect.gen(function* () {
          if (ended) return
          ended = true
          const { at, ...rest } = facts
          const line: RunEnd = { t: "end", at: at ?? new Date().toISOString(), ...rest }
          buffer.push(`${JSON.stringify(line)}\n`)
          yield* flush
        })
    }
    return writer
  })

// Reading ---------------------------------------------------------------------------------------

interface Line {
  /** From 1. */
  readonly number: number
  readonly text: string
  /** The file's last line, with no newline after it: possibly cut short by a crash. */
  readonly unterminated: boolean
}

/** A file's lines, a read buffer's worth at a time (a 10,000-job run's file is tens of megabytes). */
const linesOf = (file: string): Stream.Stream<ReadonlyArray<Line>, StateIoError> =>
  Stream.fromAsyncIterable(
    (async function* () {
      let rest = ""
      let number = 0
      for await (const chunk of createReadStream(file, { encoding: "utf8", highWaterMark: 256 * 1024 })) {
        const parts = (rest + String(chunk)).split("\n")
        rest = parts.pop() ?? ""
        yield parts.map((text) => ({ number: ++number, text, unterminated: false }))
      }
      if (rest !== "") yield [{ number: ++number, text: rest, unterminated: true }]
    })(),
    (e) => e
  ).pipe(Stream.catchAll((e) => Stream.fromEffect(stateIo(file, "read", () => Promise.reject(e)))))

type Parsed = { readonly _tag: "Json"; readonly value: unknown } | { readonly _tag: "Torn" } | { readonly _tag: "Blank" }

const parseLine = (file: string, line: Line): Either.Either<Parsed, RunHistoryUnreadable> => {
  if (line.text.trim() === "") return Either.right({ _tag: "Blank" })
  try {
    return Either.right({ _tag: "Json", value: JSON.parse(line.text) })
  } catch {
    // Only the end can be torn by a crash (no newline after it yet); anything else is damage.
    if (line.unterminated) return Either.right({ _tag: "Torn" })
    return Either.left(new RunHistoryUnreadable({ file, line: line.number, reason: "this line is not valid JSON" }))
  }
}

const tornWarning = (file: string, line: number) =>
  `${file}:${line}: the last line was cut short (the run was killed while writing it); it is ignored`

const isRecord = (value: unknown, t: string) => typeof value === "object" && value !== null && (value as Record<string, unknown>)["t"] === t

const decodeHeader = Schema.decodeUnknownEither(RunHeader)
const decodeEnd = Schema.decodeUnknownEither(RunEnd)
const EventEnvelope = Schema.Struct({ type: Schema.String, at: Schema.String, job: optional(Schema.String) })
const decodeEnvelope = Schema.decodeUnknownEither(EventEnvelope)

const unreadable = (file: string, line: number, what: string, error: ParseResult.ParseError) =>
  new RunHistoryUnreadable({ file, line, reason: `this line is not ${what} (${schemaProblem(error)})` })

interface Tally {
  header: RunHeader | undefined
  end: RunEnd | undefined
  completed: number
  failed: number
  lastAt: string | undefined
  warning: string | undefined
}

/** One run file read whole: its header, its end, and what its events say (for a run with no end). */
const tallyRun = (file: string): Effect.Effect<Tally, RunHistoryUnreadable | StateIoError> =>
  Stream.runFoldEffect(
    linesOf(file),
    { header: undefined, end: undefined, completed: 0, failed: 0, lastAt: undefined, warning: undefined } as Tally,
    (tally, lines) =>
      Effect.suspend(() => {
        for (const line of lines) {
          const parsed = parseLine(file, line)
          if (Either.isLeft(parsed)) return Effect.fail(parsed.left)
          const p = parsed.right
          if (p._tag === "Blank") continue
          if (p._tag === "Torn") {
            tally.warning = tornWarning(file, line.number)
            continue
          }
          if (tally.header === undefined) {
            if (!isRecord(p.value, "run"))
              return Effect.fail(new RunHistoryUnreadable({ file, line: line.number, reason: "a run file starts with its header" }))
            const header = decodeHeader(p.value)
            if (Either.isLeft(header)) return Effect.fail(unreadable(file, line.number, "a run header", header.left))
            tally.header = header.right
          } else if (isRecord(p.value, "end")) {
            const end = decodeEnd(p.value)
            if (Either.isLeft(end)) return Effect.fail(unreadable(file, line.number, "a run's end", end.left))
            tally.end = end.right
          } else {
            const event = decodeEnvelope(p.value)
            if (Either.isLeft(event)) return Effect.fail(unreadable(file, line.number, "an event", event.left))
            tally.lastAt = event.right.at
            if (event.right.type === "job.completed") tally.completed++
            else if (event.right.type === "job.failed") tally.failed++
          }
        }
        return Effect.succeed(tally)
      })
  )

const recordOf = (tally: Tally & { header: RunHeader }): RunRecord => {
  const { header, end } = tally
  const base = {
    n: header.n,
    startedAt: header.startedAt,
    command: header.command,
    user: header.user,
    host: header.host,
    pid: header.pid,
    clapperVersion: header.clapperVersion,
    ...(header.selection ? { selection: header.selection } : {})
  }
  if (end)
    return {
      ...base,
      finishedAt: end.at,
      outcome: end.outcome,
      exitCode: end.exitCode,
      completed: end.completed,
      failed: end.failed,
      spentUsd: end.spentUsd,
      ...(end.message !== undefined ? { message: end.message } : {})
    }
  return {
    ...base,
    ...(tally.lastAt !== undefined ? { finishedAt: tally.lastAt } : {}),
    outcome: "killed",
    completed: tally.completed,
    failed: tally.failed
  }
}

/** How much of a file's start and end is read for its header and end line. */
const edgeBytes = 64 * 1024

/**
 * A run from its first and last lines only, when both are whole and the last is its end: a
 * finished run is listed without reading its events. `undefined` when the file must be read whole.
 */
const fromEdges = (file: string): Effect.Effect<RunRecord | undefined, StateIoError> =>
  Effect.map(
    stateIo(file, "read", async () => {
      const handle = await open(file, "r")
      try {
        const { size } = await handle.stat()
        const head = Buffer.alloc(Math.min(size, edgeBytes))
        await handle.read(head, 0, head.length, 0)
        const tail = Buffer.alloc(Math.min(size, edgeBytes))
        await handle.read(tail, 0, tail.length, size - tail.length)
        return { head: head.toString("utf8"), tail: tail.toString("utf8") }
      } finally {
        await handle.close()
      }
    }),
    ({ head, tail }) => {
      const firstNewline = head.indexOf("\n")
      if (firstNewline < 0 || !tail.endsWith("\n")) return undefined
      const lastLine = tail.slice(tail.lastIndexOf("\n", tail.length - 2) + 1, -1)
      try {
        const header = decodeHeader(JSON.parse(head.slice(0, firstNewline)))
        const end = decodeEnd(JSON.parse(lastLine))
        if (Either.isLeft(header) || Either.isLeft(end)) return undefined
        return recordOf({ header: header.right, end: end.right, completed: 0, failed: 0, lastAt: undefined, warning: undefined })
      } catch {
        return undefined
      }
    }
  )

/** A pipeline's past runs, oldest first. */
export const listRuns = (stateDir: string): Effect.Effect<RunList, RunHistoryUnreadable | StateIoError> =>
  Effect.gen(function* () {
    const numbers = yield* recordedNumbers(runsDir(stateDir))
    const runs: Array<RunRecord> = []
    const warnings: Array<string> = []
    for (const n of numbers) {
      const file = runFile(stateDir, n)
      const quick = yield* fromEdges(file)
      if (quick) {
        runs.push(quick)
        continue
      }
      const tally = yield* tallyRun(file)
      if (tally.warning) warnings.push(tally.warning)
      if (tally.header === undefined) {
        warnings.push(`${file}: no whole header (the run was killed as it began); left out`)
        continue
      }
      runs.push(recordOf({ ...tally, header: tally.header }))
    }
    return { runs, warnings }
  })

/**
 * One run's events, in order, each decoded with `events` (the runtime's `RunEvent`), streamed: a
 * report of a 10,000-job run reads them without holding the file. A torn last line is left out.
 */
export const readRunEvents = <A, I>(
  stateDir: string,
  pipeline: string,
  n: number,
  events: Schema.Schema<A, I>
): Stream.Stream<A, RunHistoryUnreadable | RunNotFound | StateIoError> => {
  const decode = Schema.decodeUnknownEither(events)
  const file = runFile(stateDir, n)
  return Stream.unwrap(
    Effect.gen(function* () {
      const numbers = yield* recordedNumbers(runsDir(stateDir))
      if (!numbers.includes(n)) return yield* Effect.fail(new RunNotFound({ pipeline, n, recorded: [...numbers] }))
      let seenHeader = false
      return linesOf(file).pipe(
        Stream.mapEffect((lines) =>
          Effect.suspend(() => {
            const out: Array<A> = []
            for (const line of lines) {
              const parsed = parseLine(file, line)
              if (Either.isLeft(parsed)) return Effect.fail(parsed.left)
              const p = parsed.right
              if (p._tag !== "Json") continue
              if (!seenHeader) {
                if (!isRecord(p.value, "run"))
                  return Effect.fail(new RunHistoryUnreadable({ file, line: line.number, reason: "a run file starts with its header" }))
                seenHeader = true
                continue
              }
              if (isRecord(p.value, "end")) continue
              const event = decode(p.value)
              if (Either.isLeft(event)) return Effect.fail(unreadable(file, line.number, "an event of a run", event.left))
              out.push(event.right)
            }
            return Effect.succeed(Chunk.unsafeFromArray(out))
          })
        ),
        Stream.flattenChunks
      )
    })
  )
}
