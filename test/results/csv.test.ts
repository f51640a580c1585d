/**
 * The results CSV round-trips: whatever text a data row holds (commas, quotes, line breaks, any
 * Unicode) comes back from an RFC 4180 reader (csv-parse) as it was, except what a spreadsheet
 * would run as a formula, which comes back with the single quote it was given; numbers come back
 * as the same numbers.
 */
import { parse } from "csv-parse/sync"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { JobResult } from "../../src/app/jobResult.ts"
import { resultsToCsv, spreadsheetSafe, trailingColumns } from "../../src/app/resultsFormat.ts"

/** The documented rule, written out again: a quote before = + - @ tab CR, unless the text is a plain number. */
const documented = (text: string) =>
  /^[=+\-@\t\r]/.test(text) && !/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text) ? `'${text}` : text

/** Text that is often awkward for CSV, mixed with any Unicode. */
const awkwardText = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom(",", '"', "\r", "\n", "\r\n", "=", "+", "-", "@", "\t", " ", "'", "1", ".", "e", "a", "é", "😀"),
    maxLength: 10
  }),
  fc.constantFrom("=1+1", "+1", "-5", "-rm -rf", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")', "1e5", "")
)

const columnName = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }),
  fc.constantFrom("state", "output", "set", "row.state")
)

const results = fc.uniqueArray(columnName, { minLength: 1, maxLength: 5 }).chain((columns) =>
  fc
    .array(
      fc.record({
        values: fc.array(awkwardText, { minLength: columns.length, maxLength: columns.length }),
        set: awkwardText,
        output: awkwardText,
        index: fc.nat(),
        duration: fc.double({ min: 0, max: 1e6, noNaN: true }),
        cost: fc.double({ min: 0, max: 1e4, noNaN: true }),
        attempts: fc.nat(20),
        reason: fc.option(awkwardText, { nil: undefined })
      }),
      { minLength: 1, maxLength: 6 }
    )
    .map((rows) => ({ columns, rows }))
)

describe("the results CSV", () => {
  it("round-trips any text in data rows, modulo the documented formula prefix; numbers stay numbers", () => {
    fc.assert(
      fc.property(results, ({ columns, rows }) => {
        const records: ReadonlyArray<JobResult> = rows.map((r) => ({
          job: "x",
          set: r.set,
          index: r.index,
          row: columns.map((column, i) => [column, r.values[i] ?? ""] as const),
          output: r.output,
          state: "done",
          durationSeconds: r.duration,
          estimatedCostUsd: r.cost,
          attempts: r.attempts,
          ...(r.reason !== undefined ? { error: { step: "poll", reason: r.reason } } : {})
        }))
        const parsed = parse(resultsToCsv(records)) as Array<Array<string>>
        expect(parsed).toHaveLength(records.length + 1)
        const [header, ...cells] = parsed
        const width = 2 + columns.length + trailingColumns.length
        expect(header).toHaveLength(width)
        // A data column named like one of the table's own is prefixed, never merged with it.
        expect(new Set(header).size).toBe(width)
        for (const [i, row] of rows.entries()) {
          const line = cells[i]!
          expect(line).toHaveLength(width)
          expect(line[0]).toBe(documented(row.set))
          expect(Number(line[1]) === row.index).toBe(true)
          expect(line.slice(2, 2 + columns.length)).toEqual(row.values.map(documented))
          const rest = line.slice(2 + columns.length)
          expect(rest[0]).toBe(documented(row.output))
          expect(Number(rest[4]) === row.duration).toBe(true)
          expect(Number(rest[5]) === row.cost).toBe(true)
          expect(Number(rest[6]) === row.attempts).toBe(true)
          expect(rest[8]).toBe(row.reason === undefined ? "" : documented(row.reason))
        }
      }),
      { numRuns: 300 }
    )
  })

  it("prefixes exactly what a spreadsheet would run, and nothing else", () => {
    expect(["=1+1", "+A1", "-A1", "@SUM(A1)", "\tx", "\rx", "-rm -rf", "+44 20 7946 0958"].map(spreadsheetSafe)).toEqual([
      "'=1+1",
      "'+A1",
      "'-A1",
      "'@SUM(A1)",
      "'\tx",
      "'\rx",
      "'-rm -rf",
      "'+44 20 7946 0958"
    ])
    expect(["-5", "+1.5", "-.5", "1e3", "plain", " =not first", "", "'=already"].map(spreadsheetSafe)).toEqual([
      "-5",
      "+1.5",
      "-.5",
      "1e3",
      "plain",
      " =not first",
      "",
      "'=already"
    ])
  })
})
