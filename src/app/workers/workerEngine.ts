/**
 * The durable engine a worker joins: `@effect/cluster` runners on the state database (its
 * messages, runners and shard locks in `cluster_*` tables beside Clapper's), talking to each
 * other over TCP at each runner's address. No process coordinates them: runners register in the
 * database, share a campaign's shards by a hash ring of the live ones, and hold each shard with
 * an advisory lock; a runner that dies loses its shards to the others once its locks expire.
 */
import { ClusterWorkflowEngine, RunnerAddress } from "@effect/cluster"
import { NodeClusterSocket } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Cause, Duration, Effect, Layer, Logger, LogLevel, Option, Scope } from "effect"
import { campaignShardGroup } from "./takeUpWorkflow.ts"

/** Where other runners reach this one. */
export interface WorkerAddress {
  readonly host: string
  readonly port: number
}

/** Equal in every runner and client, or they wait for each other forever: fixed here, never configured. */
const shardsPerGroup = 64

/**
 * How fast a runner's death is noticed: its shard locks expire after `shardLockExpiration`
 * (refreshed every 5 s while alive), and messages stored while nobody owned a shard are picked up
 * within a second. A refresh that takes longer than its interval makes the engine drop every
 * shard at once (interrupting every unit): 2 s did so on a loaded 2-core machine, 5 s does not.
 * A few queries a second per runner, against minutes per render.
 */
const timing = {
  shardLockRefreshInterval: Duration.seconds(5),
  shardLockExpiration: Duration.seconds(20),
  entityMessagePollInterval: Duration.seconds(1),
  runnerHealthCheckInterval: Duration.seconds(5),
  // A shard moves this long after it starts leaving, at the latest: its units stop their work
  // themselves within a second (distributeToWorkers.ts), and a submit in flight settles within the
  // settle time (5 s by default), recorded before anyone else takes the render up.
  entityTerminationTimeout: Duration.seconds(15)
}

/** The first line of what went wrong, without its stack: "SqlError: … (cause: connect ECONNREFUSED …)". */
const firstLine = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  const text = error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ""}` : String(error)
  return text.split("\n")[0]
}

/**
 * What the engine says goes to stderr as one line each, its warnings and errors only, each said
 * at most once in 30 s (an outage repeats them every second): stdout is the run's (`--json` events).
 */
const engineLogs = (() => {
  const said = new Map<string, number>()
  return Layer.merge(
    Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message, cause, date }) => {
        const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
        const last = said.get(text)
        if (last !== undefined && date.getTime() - last < 30_000) return
        said.set(text, date.getTime())
        const why = Cause.isEmpty(cause) ? "" : `: ${firstLine(cause)}`
        process.stderr.write(`clapper worker: the engine ${logLevel.label.toLowerCase()}s: ${text}${why}\n`)
      })
    ),
    Logger.minimumLogLevel(LogLevel.Warning)
  )
})()

/** The workflow engine of a campaign's worker, listening at `address`, on the state database `sql`. */
export const workerEngine = (sql: SqlClient.SqlClient, campaign: string, address: WorkerAddress) =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(
      NodeClusterSocket.layer({
        storage: "sql",
        shardingConfig: {
          runnerAddress: Option.some(RunnerAddress.make(address.host, address.port)),
          runnerListenAddress: Option.none(),
          shardsPerGroup,
          // The engine's own entities (durable clocks) in the default group; the campaign's units in the campaign's.
          availableShardGroups: ["default", campaignShardGroup(campaign)],
          assignedShardGroups: ["default", campaignShardGroup(campaign)],
          ...timing
        }
      })
    ),
    Layer.provide(Layer.succeed(SqlClient.SqlClient, sql)),
    Layer.provide(engineLogs)
  )

/** One key for every Clapper worker: the engine creates its tables as it starts. */
const engineDdlLock = 0x434c5045

/**
 * Builds the engine for the life of the caller's scope, one worker at a time per database: the
 * engine creates its tables on start, and two servers' `CREATE TABLE IF NOT EXISTS` at the same
 * moment may both try to create one (a duplicate-key error from PostgreSQL's catalog).
 */
export const startWorkerEngine = <A, E>(sql: SqlClient.SqlClient, engine: Layer.Layer<A, E>, stopWithin: Duration.Duration) =>
  Effect.gen(function* () {
    // When the worker ends, the engine shuts down for as long as its units need to settle, and no
    // longer: a unit cut off then is open for the other workers (its shard's lock ends with the process).
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer((exit) =>
      Effect.disconnect(Scope.close(scope, exit)).pipe(Effect.timeoutOption(Duration.sum(stopWithin, Duration.seconds(2))))
    )
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const connection = yield* sql.reserve
        yield* connection.execute("SELECT pg_advisory_lock($1)", [engineDdlLock], undefined)
        return yield* Layer.buildWithScope(engine, scope).pipe(
          Effect.ensuring(Effect.ignore(connection.execute("SELECT pg_advisory_unlock($1)", [engineDdlLock], undefined)))
        )
      })
    )
  })
