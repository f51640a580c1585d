/**
 * YAML text with its source positions kept, so every later check (schema, templates, data rows)
 * can point at the exact line and column of the node it is about.
 */
import { Either } from "effect"
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Document, type Node } from "yaml"
import type { Diagnostic } from "./diagnostic.ts"

export interface YamlSource {
  /** The file as named to the user (in diagnostics). */
  readonly file: string
  readonly doc: Document.Parsed
  readonly lineCounter: LineCounter
  /** The document as plain data. */
  readonly value: unknown
}

export type PathSegment = string | number

export interface Position {
  readonly line: number
  readonly column: number
}

/** Parses YAML (or JSON, a subset of YAML 1.2); every syntax error becomes a diagnostic. */
export const parseYamlSource = (file: string, text: string): Either.Either<YamlSource, ReadonlyArray<Diagnostic>> => {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true })
  if (doc.errors.length > 0) {
    return Either.left(
      doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0])
        return {
          file,
          line: Math.max(1, line),
          column: Math.max(1, col),
          message: `invalid YAML: ${error.message.replace(/ at line \d+, column \d+[\s\S]*$/, "")}`
        }
      })
    )
  }
  return Either.right({ file, doc, lineCounter, value: doc.toJS({ maxAliasCount: 1000 }) })
}

export const positionAt = (source: YamlSource, offset: number): Position => {
  const { line, col } = source.lineCounter.linePos(offset)
  return { line: Math.max(1, line), column: Math.max(1, col) }
}

const startOf = (node: Node | null | undefined): number | undefined => node?.range?.[0]

/**
 * The position of the node at `path`. When the path runs out of existing nodes (a missing key),
 * the deepest node that exists is used: for a missing key that is its parent mapping.
 * With `at: "key"`, a mapping entry is located by its key rather than its value.
 */
export const locate = (source: YamlSource, path: ReadonlyArray<PathSegment>, at: "value" | "key" = "value"): Position => {
  let node: unknown = source.doc.contents
  let offset = startOf(source.doc.contents) ?? 0
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment))
      if (!pair) break
      const keyStart = startOf(pair.key as Node)
      if (last && at === "key" && keyStart !== undefined) return positionAt(source, keyStart)
      node = pair.value
      offset = startOf(pair.value as Node) ?? keyStart ?? offset
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment]
      if (item === undefined) break
      node = item
      offset = startOf(item as Node) ?? offset
    } else {
      break
    }
  }
  return positionAt(source, offset)
}

/**
 * Maps an offset inside a string value at `path` to its position in the file, so a template
 * error can point at the placeholder itself. Quoted scalars start one character after the quote.
 */
export const locateInString = (source: YamlSource, path: ReadonlyArray<PathSegment>): ((offset: number) => Position) => {
  const node = source.doc.getIn(path, true)
  if (isScalar(node) && node.range) {
    const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE
    const start = node.range[0] + (quoted ? 1 : 0)
    const singleLine = !String(node.value).includes("\n")
    return (offset) => positionAt(source, singleLine ? start + offset : start)
  }
  const fallback = locate(source, path)
  return () => fallback
}
