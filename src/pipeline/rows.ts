/**
 * The data rows of a `rows` set: CSV with a header row, a JSON array of objects, or a YAML list
 * of objects. Each row keeps the place it came from, so a bad value is reported at its line.
 */
import { FileSystem } from "@effect/platform"
import { parse as parseCsv } from "csv-parse/sync"
import { Effect, Either } from "effect"
import { isMap, isPair, isScalar, isSeq } from "yaml"
import type { Diagnostic } from "./diagnostic.ts"
import { parseYamlSource, positionAt, type Position } from "./yamlSource.ts"

export interface DataRow {
  /** Column → value, every value a string (numbers and booleans are written as in the file). */
  readonly values: Readonly<Record<string, string>>
  /** The row's place in its data file. */
  readonly file: string
  readonly position: Position
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

const csvRows = (file: string, text: string): Either.Either<DataRows, ReadonlyArray<Diagnostic>> => {
  try {
    const records = parseCsv(text, { columns: true, bom: true, info: true, skip_empty_lines: true, trim: true }) as Array<CsvRecord>
    const header = text.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? ""
    const columns = records[0] ? Object.keys(records[0].record) : header.split(",").map((c) => c.trim()).filter(Boolean)
    return Either.right({
      columns,
      rows: records.map(({ record, info }) => ({ values: record, file, position: { line: info.lines, column: 1 } }))
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
        const key = String(pair.key.value)
        if (!isScalar(pair.value)) {
          const where = pair.value && "range" in pair.value && pair.value.range ? positionAt(source, pair.value.range[0]) : position
          diagnostics.push(at(file, where, `row ${index + 1}, "${key}": expected a plain value (text or number), not a list or object`))
          continue
        }
        values[key] = pair.value.value === null ? "" : String(pair.value.value)
        columns.add(key)
      }
      rows.push({ values, file, position })
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
    const text = yield* fs
      .readFileString(absolutePath)
      .pipe(Effect.mapError((e) => [at(file, { line: 1, column: 1 }, `cannot read the data file: ${e.message}`)]))
    const lower = absolutePath.toLowerCase()
    if (lower.endsWith(".csv")) return yield* csvRows(file, text)
    if (lower.endsWith(".json") || lower.endsWith(".yaml") || lower.endsWith(".yml")) return yield* structuredRows(file, text)
    return yield* Effect.fail([at(file, { line: 1, column: 1 }, "unknown data file type: use .csv (with a header row), .json or .yaml")])
  })
