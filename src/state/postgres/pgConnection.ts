/**
 * The connection to a state database, opened when the state is first needed (so a library caller
 * that never reads state never connects) and kept for the life of the store's scope. Whatever goes
 * wrong on the way — no server, a wrong password, no such database, the server lost mid-run — is a
 * `StateIoError` that names the database (never the password) and says what to do; during a run it
 * stops every further paid request, as an unwritable state folder does.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import * as Reactivity from "@effect/experimental/Reactivity"
import { Duration, Effect, ExecutionStrategy, Exit, Option, Ref, Scope } from "effect"
import { StateIoError } from "../journal.ts"
import type { PostgresLocation } from "./stateUrl.ts"

/**
 * @effect/sql-pg sends a query on a connection that is still answering another (it queues them
 * itself), which pg 8 answers with a deprecation warning on stderr: harmless on pg 8, and noise
 * in every worker's output. That one warning is dropped; every other goes through.
 */
const pgQueueWarning = "Calling client.query() when the client is already executing a query"
const emitWarning = process.emitWarning.bind(process)
process.emitWarning = ((warning: string | Error, ...rest: Array<never>) => {
  if (String(typeof warning === "string" ? warning : warning.message).startsWith(pgQueueWarning)) return
  emitWarning(warning, ...rest)
}) as typeof process.emitWarning

/** What a pg or socket error means, in a few words. */
export const describePgError = (error: unknown): string => {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error
  const code = typeof cause === "object" && cause !== null ? (cause as { code?: unknown }).code : undefined
  const text = cause instanceof Error ? cause.message : String(cause)
  switch (code) {
    case "ECONNREFUSED":
      return "nothing accepts connections there (ECONNREFUSED)"
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host name cannot be resolved (${code})`
    case "ECONNRESET":
    case "EPIPE":
      return `the connection was lost (${code})`
    case "ETIMEDOUT":
      return "the server did not answer in time (ETIMEDOUT)"
    case "28P01":
    case "28000":
      return "the server refused the login: the user or password is wrong"
    case "3D000":
      return "the server has no such database"
    case "57P01":
    case "57P02":
    case "57P03":
      return "the server is shutting down or starting up"
  }
  if (/timed out|timeout/i.test(text)) return "the server did not answer in time"
  if (/Connection terminated|connection error|not queryable|connection.*(lost|closed|ended)/i.test(text)) return "the connection was lost"
  return text
}

/**
 * Whether an error is the database being away (not there, restarting, the connection dropped):
 * worth waiting out during a run, unlike a refusal (a wrong password, a missing table).
 */
export const isConnectionLoss = (error: unknown): boolean => {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error
  const code = typeof cause === "object" && cause !== null ? String((cause as { code?: unknown }).code ?? "") : ""
  if (["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "57P01", "57P02", "57P03"].includes(code))
    return true
  if (code.startsWith("08")) return true
  const text = cause instanceof Error ? cause.message : String(cause)
  return /Connection terminated|connection error|not queryable|connection.*(lost|closed|ended)|timed out|timeout|Failed to acquire connection/i.test(
    text
  )
}

/** Advice after a failure: what was sent is recorded in the database, so a later run goes on from it. */
const fixFor = (reason: string) =>
  /login|password/.test(reason)
    ? "Check the user and password in --state (or CLAPPER_STATE), then run the same command again: nothing was sent"
    : /no such database/.test(reason)
      ? "Create the database (createdb), or correct its name in --state, then run the same command again: nothing was sent"
      : "Start the database server or correct --state (or CLAPPER_STATE), then run the same command again: nothing is lost, what was sent is recorded there"

export const stateDbError = (location: PostgresLocation, operation: "read" | "write") => (error: SqlError | unknown) => {
  const reason = describePgError(error)
  return new StateIoError({ file: location.described, operation, reason, freeBytes: undefined, fix: fixFor(reason) })
}

export interface PgConnection {
  /** The client, connecting at the first call; a failed connection is tried again at the next. */
  readonly client: Effect.Effect<SqlClient.SqlClient, StateIoError>
  readonly location: PostgresLocation
}

/** A lazily opened pool, closed with `scope`. */
export const makePgConnection = (location: PostgresLocation, scope: Scope.Scope): Effect.Effect<PgConnection> =>
  Effect.gen(function* () {
    const opened = yield* Ref.make(Option.none<SqlClient.SqlClient>())
    const opening = yield* Effect.makeSemaphore(1)
    const open = Effect.gen(function* () {
      const child = yield* Scope.fork(scope, ExecutionStrategy.sequential)
      const exit = yield* PgClient.make({
        url: location.url,
        connectTimeout: Duration.seconds(5),
        applicationName: "clapper",
        // A pool per process: the run's writes are small and short.
        maxConnections: 8
      }).pipe(Effect.provide(Reactivity.layer), Scope.extend(child), Effect.exit)
      if (Exit.isFailure(exit)) {
        yield* Scope.close(child, exit)
        return yield* Effect.failCause(exit.cause)
      }
      yield* Ref.set(opened, Option.some(exit.value))
      return exit.value as SqlClient.SqlClient
    })
    const client = opening
      .withPermits(1)(Effect.flatMap(Ref.get(opened), Option.match({ onSome: Effect.succeed, onNone: () => open })))
      .pipe(Effect.mapError(stateDbError(location, "read")))
    return { client, location }
  })
