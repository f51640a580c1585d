/**
 * The plain-CSV reader stands in for csv-parse on the common data file: wherever it answers, its
 * answer is csv-parse's (with the options the rows sets use), and it answers every well-formed
 * file without quotes or CR line ends.
 */
import { parse } from "csv-parse/sync"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parsePlainCsv } from "../../src/pipeline/plainCsv.ts"

/** csv-parse as `src/pipeline/rows.ts` calls it: header in file order, values, line of each record. */
const csvParse = (text: string) => {
  let columns: ReadonlyArray<string> = []
  const records = parse(text, {
    columns: (names: Array<string>) => {
      columns = names
      return names
    },
    bom: true,
    info: true,
    skip_empty_lines: true,
    trim: true
  }) as Array<{ record: Record<string, string>; info: { lines: number } }>
  return { columns, rows: records.map(({ record, info }) => ({ values: record, line: info.lines })) }
}

const plain = (text: string) => parsePlainCsv(text, (values, line) => ({ values, line }))

/** Keys in order with their values: `toEqual` alone does not compare the order of keys. */
const ordered = (result: { columns: ReadonlyArray<string>; rows: ReadonlyArray<{ values: Record<string, string>; line: number }> }) => ({
  columns: result.columns,
  rows: result.rows.map(({ values, line }) => ({ entries: Object.entries(values), line }))
})

const field = fc.stringMatching(/^[ \t]{0,2}[a-zé0-9_.&-]{0,6}( [a-z]{1,3})?[ \t]{0,2}$/)
const blankLine = fc.constantFrom("", " ", "\t", "  \t ")

/** A well-formed plain CSV: a header of distinct names, rows of as many fields, blank lines anywhere. */
const wellFormed = fc.uniqueArray(fc.stringMatching(/^[a-z0-9_]{1,6}$/), { minLength: 1, maxLength: 5 }).chain((names) =>
  fc
    .tuple(
      fc.array(
        fc.oneof(
          fc.array(field, { minLength: names.length, maxLength: names.length }).map((f) => f.join(",")),
          blankLine
        ),
        {
          maxLength: 12
        }
      ),
      fc.array(blankLine, { maxLength: 2 }),
      fc.boolean(),
      fc.boolean()
    )
    .map(([lines, before, bom, finalNewline]) => {
      const body = [...before, names.join(" , "), ...lines].join("\n")
      return `${bom ? "\uFEFF" : ""}${body}${finalNewline ? "\n" : ""}`
    })
)

/** Anything made of CSV's characters, quotes and CRs included. */
const anyText = fc.stringMatching(/^[a-c0-9 ,\t\n\r"\u00a0_]{0,60}$/)

describe("parsePlainCsv", () => {
  it("reads every well-formed plain file, exactly as csv-parse does", () => {
    fc.assert(
      fc.property(wellFormed, (text) => {
        const answer = plain(text)
        expect(answer).toBeDefined()
        expect(ordered(answer ?? { columns: [], rows: [] })).toEqual(ordered(csvParse(text)))
      }),
      { numRuns: 500 }
    )
  })

  it("on any text, answers only what csv-parse answers", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const answer = plain(text)
        if (answer === undefined) return
        expect(ordered(answer)).toEqual(ordered(csvParse(text)))
      }),
      { numRuns: 2000 }
    )
  })

  it("leaves quotes, CR line ends, other blanks, ragged rows and a __proto__ column to csv-parse", () => {
    for (const text of ['id,name\n1,"a,b"\n', "id,name\r\n1,a\r\n", "id,name\n1,\u00a0a\n", "id,name\n1\n", "__proto__,b\n1,2\n"]) {
      expect(plain(text)).toBeUndefined()
    }
  })

  it("integer-like column names keep their place in the columns", () => {
    expect(plain("name,2024,id\nAda,x,1\n")?.columns).toEqual(["name", "2024", "id"])
  })
})
