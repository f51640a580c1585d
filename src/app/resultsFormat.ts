/**
 * The results table as a file: CSV (RFC 4180: CRLF between records, a field quoted when it holds
 * a comma, a quote, CR or LF, quotes doubled), JSON (one array of `JobResult`, encoded with its
 * Schema) or JSON Lines (one `JobResult` per line).
 *
 * The CSV is meant to be opened in a spreadsheet, so a text cell that starts with `=`, `+`, `-`,
 * `@`, a tab or a carriage return, which a spreadsheet would run as a formula, is prefixed with a
 * single quote (OWASP, "CSV Injection"). Number cells are never prefixed, nor is a text cell that
 * is a plain number (`-5`, `+1.5`): no spreadsheet runs those. JSON and JSON Lines keep every
 * value as it is.
 */
import { Schema } from "effect"
import { stringify } from "csv-stringify/sync"
import type { ResultsFormat } from "../pipeline/schema.ts"
import { JobResult } from "./jobResult.ts"

/** The CSV's columns before the data row's. */
export const leadingColumns = ["set", "index"] as const

/** The CSV's columns after the data row's. */
export const trailingColumns = [
  "output",
  "state",
  "video_id",
  "share_link_url",
  "duration_seconds",
  "estimated_cost_usd",
  "attempts",
  "error_step",
  "error",
  "error_code"
] as const

const fixedColumns: ReadonlySet<string> = new Set([...leadingColumns, ...trailingColumns])

/** What a data column named like a fixed one (or like another renamed one) is called in the CSV. */
export const dataColumnPrefix = "row."

/**
 * The data rows' columns, in the CSV's order: the union of every row's columns in first-seen
 * order (a `rows` set's in its data file's order, then another set's new ones). Each comes with
 * its name in the header: its own, or prefixed with `row.` when a fixed column has it
 * (`state` → `row.state`).
 */
export const dataColumns = (results: ReadonlyArray<JobResult>): ReadonlyArray<{ readonly column: string; readonly header: string }> => {
  const columns: Array<string> = []
  const seen = new Set<string>()
  for (const result of results)
    for (const [column] of result.row ?? []) {
      if (seen.has(column)) continue
      seen.add(column)
      columns.push(column)
    }
  const taken = new Set<string>([...fixedColumns, ...columns])
  return columns.map((column) => {
    if (!fixedColumns.has(column)) return { column, header: column }
    let header = `${dataColumnPrefix}${column}`
    while (taken.has(header)) header = `${dataColumnPrefix}${header}`
    taken.add(header)
    return { column, header }
  })
}

const formulaStart = /^[=+\-@\t\r]/
const plainNumber = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/** A text cell a spreadsheet will not run as a formula: `'` before a risky first character. */
export const spreadsheetSafe = (text: string): string => (formulaStart.test(text) && !plainNumber.test(text) ? `'${text}` : text)

type Cell = string | number | undefined

const csvCell = (cell: Cell): string => (cell === undefined ? "" : typeof cell === "number" ? String(cell) : spreadsheetSafe(cell))

/** The results as CSV text, header first. */
export const resultsToCsv = (results: ReadonlyArray<JobResult>): string => {
  const data = dataColumns(results)
  const header = [...leadingColumns, ...data.map((c) => c.header), ...trailingColumns]
  const records = results.map((result) => {
    const row = new Map(result.row ?? [])
    const cells: ReadonlyArray<Cell> = [
      result.set,
      result.index,
      ...data.map((c) => row.get(c.column)),
      result.output,
      result.state,
      result.videoId,
      result.shareLinkUrl,
      result.durationSeconds,
      result.estimatedCostUsd,
      result.attempts,
      result.error?.step,
      result.error?.reason,
      result.error?.code
    ]
    return cells.map(csvCell)
  })
  // csv-stringify quotes a field with a comma or a quote; one with CR or LF must be quoted too.
  return stringify([header.map(spreadsheetSafe), ...records], { record_delimiter: "windows", quoted_match: /[\r\n]/ })
}

const encodeResult = Schema.encodeSync(JobResult)

/** The results as one JSON array. */
export const resultsToJson = (results: ReadonlyArray<JobResult>): string =>
  `${JSON.stringify(
    results.map((result) => encodeResult(result)),
    null,
    2
  )}\n`

/** The results as JSON Lines: one object per line. */
export const resultsToJsonLines = (results: ReadonlyArray<JobResult>): string =>
  results.map((result) => `${JSON.stringify(encodeResult(result))}\n`).join("")

export const formatResults = (results: ReadonlyArray<JobResult>, format: ResultsFormat): string => {
  switch (format) {
    case "csv":
      return resultsToCsv(results)
    case "json":
      return resultsToJson(results)
    case "jsonl":
      return resultsToJsonLines(results)
  }
}

/** The format a results file's name asks for: `.json`, `.jsonl`/`.ndjson`, else CSV. */
export const formatForPath = (file: string): ResultsFormat => {
  const lower = file.toLowerCase()
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl"
  if (lower.endsWith(".json")) return "json"
  return "csv"
}
