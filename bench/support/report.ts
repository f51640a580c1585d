/**
 * Results into BENCHMARKS.md: each benchmark owns the part of the file between its markers
 * (`<!-- bench:NAME:start -->` … `<!-- bench:NAME:end -->`) and rewrites only that, so the
 * benchmarks can be run one at a time and the hand-written notes around them stay.
 * `BENCH_REPORT=-` prints the section without touching the file (the smoke run does this);
 * `BENCH_REPORT=path` writes another file.
 */
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { availableParallelism, cpus, release, totalmem, type } from "node:os"
import { join } from "node:path"
import { benchOverrides } from "./env.ts"
import { childCpu, repoRoot } from "./processes.ts"

export interface Table {
  readonly header: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
}

export const markdownTable = (table: Table): string => {
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`
  return [line(table.header), line(table.header.map(() => "---")), ...table.rows.map(line)].join("\n")
}

const cpuModel = (): string => {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))
    if (match?.[1]) return match[1].trim()
  } catch {
    // not Linux: fall through
  }
  return cpus()[0]?.model ?? "unknown CPU"
}

/**
 * The code measured: the last commit that changed src/ or bin/ (and HEAD when a later commit
 * changed something else), and whether src/ or bin/ had uncommitted changes (read-only git commands).
 */
export const revision = (): string => {
  try {
    const git = (...args: Array<string>) => execFileSync("git", args, { cwd: repoRoot, encoding: "utf8" }).trim()
    const commit = git("log", "-1", "--format=%h", "--", "src", "bin")
    const head = git("rev-parse", "--short", "HEAD")
    const named = head === commit ? `commit ${commit}` : `commit ${commit} (HEAD ${head})`
    const dirty = git("status", "--porcelain", "--", "src", "bin")
      .split("\n")
      .filter((l) => l.trim() !== "").length
    return dirty === 0 ? named : `${named} with ${dirty} uncommitted file${dirty === 1 ? "" : "s"} in src/ or bin/`
  } catch {
    return "unknown commit"
  }
}

export const machine = (): string =>
  `Node ${process.version}, ${cpuModel()}, ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ${type()} ${release()}`

/** How this benchmark was started, with the overrides that were set. */
export const commandLine = (script: string): string => {
  const overrides = benchOverrides()
  return `${overrides === "" ? "" : `${overrides} `}npm run ${script}`
}

/** What was measured: src/ as it was when the benchmark started (other engineers commit meanwhile). */
const revisionAtStart = revision()

const revisionNote = (): string => {
  const now = revision()
  return now === revisionAtStart ? revisionAtStart : `${revisionAtStart} (${now} by the end: src/ or bin/ changed during the run)`
}

/** CPU time spent by the whole machine so far (all cores, /proc/stat), in ms; undefined off Linux. */
const machineBusyMs = (): number | undefined => {
  try {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    const busy = fields.reduce((a, b, i) => (i === 3 || i === 4 || i > 7 ? a : a + b), 0)
    return busy * 10 // USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}
const busyAtStart = machineBusyMs()

/**
 * CPU time the machine spent on anything but this benchmark and its contenders while it ran:
 * other work on a 2-core machine slows both contenders and is worth knowing about.
 */
const otherLoad = (durationMs: number): string => {
  const now = machineBusyMs()
  if (now === undefined || busyAtStart === undefined) return ""
  const own = process.cpuUsage()
  const otherMs = Math.max(0, now - busyAtStart - (own.user + own.system) / 1000 - childCpu.ms)
  return `; other processes used ${(otherMs / 1000).toFixed(1)} s of CPU meanwhile (${((100 * otherMs) / durationMs).toFixed(0)} % of one core)`
}

export interface Section {
  /** The marker name, e.g. "overhead". */
  readonly name: string
  readonly script: string
  /** Markdown: settings, tables, verdicts. */
  readonly body: string
}

const stamp = (section: Section, startedAt: Date, durationMs: number): string =>
  [
    `_Measured ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC with \`${commandLine(section.script)}\` ` +
      `(the benchmark took ${Math.round(durationMs / 1000)} s) on ${machine()}; Clapper at ${revisionNote()}${otherLoad(durationMs)}._`,
    "",
    section.body.trim()
  ].join("\n")

export const reportFile = (): string | undefined => {
  const target = process.env["BENCH_REPORT"]
  if (target === "-") return undefined
  return target === undefined || target === "" ? join(repoRoot, "BENCHMARKS.md") : target
}

/** Prints the section and writes it between its markers (appending them when they are missing). */
export const publish = (section: Section, startedAt: Date, durationMs: number): void => {
  const text = stamp(section, startedAt, durationMs)
  console.log(`\n${text}\n`)
  const file = reportFile()
  if (file === undefined) return
  const start = `<!-- bench:${section.name}:start -->`
  const end = `<!-- bench:${section.name}:end -->`
  const current = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n"
  const from = current.indexOf(start)
  const to = current.indexOf(end)
  const block = `${start}\n${text}\n${end}`
  const next =
    from >= 0 && to > from ? `${current.slice(0, from)}${block}${current.slice(to + end.length)}` : `${current.trimEnd()}\n\n${block}\n`
  writeFileSync(file, next)
  console.log(`written to ${file}`)
}

/** "met" / "missed by …" for a bound that must not be exceeded. */
export const verdictAtMost = (value: number, bound: number, show: (x: number) => string): string =>
  value <= bound
    ? `**met** (${show(value)} ≤ ${show(bound)})`
    : `**missed** by ${show(value - bound)} (${show(value)} > ${show(bound)}, ${((value / bound - 1) * 100).toFixed(0)} % over)`
