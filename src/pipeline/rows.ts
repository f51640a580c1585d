/**
 * The data rows of a `rows` set: CSV with a header row, a JSON array of objects, or a YAML list
 * of objects. Each row keeps the place it came from, so a bad value is reported at its line.
 */
import { FileSystem } from "@effect/platform"
import { parse as parseCsv } from "csv-parse/sync"
import { Effect, Either } from "effect"
import { isMap, isPair, isScalar, isSeq } from "yaml"
import type { Diagnostic } from "./diagnostic.ts"
import type { Origin } from "./job.ts"
import { parsePlainCsv } from "./plainCsv.ts"
import { scalarText } from "./scalarText.ts"
import { decodeUtf8 } from "./utf8.ts"
import { parseYamlSource, positionAt, type Position } from "./yamlSource.ts"

export interface DataRow {
  /** Column → value, every value a string: numbers and booleans as written in the file (`007`, `1e3`, `True`). */
  readonly values: Readonly<Record<string, string>>
  /** The row's place in its data file (also the origin of the job it makes: one object for both). */
  readonly origin: Origin
}

export interface DataRows {
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<DataRow>
}

const at = (file: string, position: Position, message: string): Diagnostic => ({ file, ...position, message })

interface CsvRecord {
  readonly record: Record<string, string>
  readonly info: { readonly lines: number }
}

/**
 * Columns of a header line, each at the column (1-based) of its first non-blank character; fields
 * split at commas outside double quotes. (A header with a quoted line break gets a count that
 * does not match, and its columns are then reported at column 1.)
 */
const headerColumns = (line: string): Array<number> => {
  const starts: Array<number> = []
  let quoted = false
  let start = 0
  for (let i = 0; i <= line.length; i++) {
    const c = line[i]
    if (c === '"') quoted = !quoted
    else if ((c === "," && !quoted) || i === line.length) {
      const blanks = /^[ \t]*/.exec(line.slice(start, i))?.[0].length ?? 0
      starts.push(start + blanks + 1)
      start = i + 1
    }
  }
  return starts
}

/** Line `number` (from 1) of the text, BOM left out, found without splitting the whole text. */
const headerLine = (text: string, number: number): string => {
  const body = text.replace(/^\uFEFF/, "")
  let start = 0
  for (let line = 1; line < number; line++) {
    const next = body.indexOf("\n", start)
    if (next === -1) return ""
    start = next + 1
  }
  const end = body.indexOf("\n", start)
  return body.slice(start, end === -1 ? body.length : end).replace(/\r$/, "")
}

/**
 * Two columns of one name would leave a row only the last one's value: an error at the second,
 * naming both places.
 */
const duplicateColumns = (file: string, text: string): Array<Diagnostic> => {
  type HeaderRecord = { readonly record: ReadonlyArray<string>; readonly info: { readonly lines: number } }
  let header: HeaderRecord | undefined
  try {
    // The header record alone, read as the full parse reads it (quotes, blanks, empty lines).
    const options = { bom: true, trim: true, skip_empty_lines: true, to: 1, relax_column_count: true, info: true } as const
    header = (parseCsv(text, options) as unknown as ReadonlyArray<HeaderRecord>)[0]
  } catch {
    return [] // the full parse reports what is wrong
  }
  if (!header) return []
  const { record, info } = header
  if (new Set(record).size === record.length) return []
  const lineText = headerLine(text, info.lines)
  const starts = headerColumns(lineText)
  const columnOf = (index: number) => (starts.length === record.length ? (starts[index] ?? 1) : 1)
  const seen = new Map<string, number>()
  const diagnostics: Array<Diagnostic> = []
  record.forEach((name, index) => {
    const first = seen.get(name)
    if (first === undefined) return void seen.set(name, index)
    const place = (i: number) => `${info.lines}:${columnOf(i)}`
    const message = `the column "${name}" is in the header twice, at ${place(first)} and ${place(index)}: rename one (a row would keep only the last one's value)`
    diagnostics.push(at(file, { line: info.lines, column: columnOf(index) }, message))
  })
  return diagnostics
}

const csvRows = (file: string, text: string): Either.Either<DataRows, ReadonlyArray<Diagnostic>> => {
  const duplicates = duplicateColumns(file, text)
  if (duplicates.length > 0) return Either.left(duplicates)
  const plain = parsePlainCsv(text, (values, line): DataRow => ({ values, origin: { file, line, column: 1 } }))
  if (plain !== undefined) return Either.right(plain)
  try {
    // The header as csv-parse reads it, in file order: a record's keys would put integer-like names ("2024") first.
    let header: ReadonlyArray<string> | undefined
    const columnsOf = (names: Array<string>) => {
      header = names
      return names
    }
    const records = parseCsv(text, { columns: columnsOf, bom: true, info: true, skip_empty_lines: true, trim: true }) as Array<CsvRecord>
    const columns = header ?? []
    return Either.right({
      columns,
      rows: records.map(({ record, info }) => ({ values: record, origin: { file, line: info.lines, column: 1 } }))
    })
  } catch (error) {
    // csv-parse's errors name the line they stopped at.
    const line = typeof error === "object" && error !== null && "lines" in error && typeof error.lines === "number" ? error.lines : 1
    const message = error instanceof Error ? error.message.replace(/^Invalid Record Length: /, "") : String(error)
    return Either.left([at(file, { line, column: 1 }, `invalid CSV: ${message}`)])
  }
}

const structuredRows = (file: string, text: string): Either.Either<DataRows, ReadonlyArray<Diagnostic>> =>
  Either.flatMap(parseYamlSource(file, text), (source) => {
    const list = source.doc.contents
    if (!isSeq(list)) {
      return Either.left([at(file, { line: 1, column: 1 }, "expected a list of objects, one per row")])
    }
    const diagnostics: Array<Diagnostic> = []
    const rows: Array<DataRow> = []
    const columns = new Set<string>()
    list.items.forEach((item, index) => {
      const position = positionAt(source, item && typeof item === "object" && "range" in item && item.range ? item.range[0] : 0)
      if (!isMap(item)) {
        diagnostics.push(at(file, position, `row ${index + 1} is not an object`))
        return
      }
      const values: Record<string, string> = {}
      for (const pair of item.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue
        const key = scalarText(pair.key) ?? ""
        if (!isScalar(pair.value)) {
          const where = pair.value && "range" in pair.value && pair.value.range ? positionAt(source, pair.value.range[0]) : position
          diagnostics.push(at(file, where, `row ${index + 1}, "${key}": expected a plain value (text or number), not a list or object`))
          continue
        }
        // As written: `007` stays 007, `1e3` stays 1e3 (the parser's value would be 7 and 1000).
        values[key] = scalarText(pair.value) ?? ""
        columns.add(key)
      }
      rows.push({ values, origin: { file, ...position } })
    })
    return diagnostics.length > 0 ? Either.left(diagnostics) : Either.right({ columns: [...columns], rows })
  })

/** Reads a data file by its extension; `file` is its name as shown to the user. */
export const readDataRows = (
  absolutePath: string,
  file: string
): Effect.Effect<DataRows, ReadonlyArray<Diagnostic>, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs
      .readFile(absolutePath)
      .pipe(Effect.mapError((e) => [at(file, { line: 1, column: 1 }, `cannot read the data file: ${e.message}`)]))
    const text = yield* decodeUtf8(file, bytes).pipe(Either.mapLeft((d) => [d]))
    const lower = absolutePath.toLowerCase()
    if (lower.endsWith(".csv")) return yield* csvRows(file, text)
    if (lower.endsWith(".json") || lower.endsWith(".yaml") || lower.endsWith(".yml")) return yield* structuredRows(file, text)
    return yield* Effect.fail([at(file, { line: 1, column: 1 }, "unknown data file type: use .csv (with a header row), .json or .yaml")])
  })
