/**
 * YAML text with its source positions kept, so every later check (schema, templates, data rows)
 * can point at the exact line and column of the node it is about.
 */
import { Either } from "effect"
import {
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  Scalar,
  visit,
  type Alias,
  type Document,
  type Node
} from "yaml"
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
  try {
    return Either.right({ file, doc, lineCounter, value: doc.toJS({ maxAliasCount }) })
  } catch (error) {
    // The only errors toJS throws are about aliases: past the limit below, or one it cannot resolve.
    const bomb = aliasOverLimit(doc)
    const where = bomb?.range ? lineCounter.linePos(bomb.range[0]) : { line: 1, col: 1 }
    const message = bomb
      ? `invalid YAML: the alias *${bomb.source} here takes the document past ${maxAliasCount} aliased values (a guard against files that expand a few lines into millions of nodes): write the values out, or repeat fewer of them through aliases`
      : `invalid YAML: ${error instanceof Error ? error.message : String(error)}`
    return Either.left([{ file, line: Math.max(1, where.line), column: Math.max(1, where.col), message }])
  }
}

/** The most values aliases may stand for in one file (the `yaml` package's guard against alias bombs). */
const maxAliasCount = 1000

/**
 * The alias at which `doc.toJS({ maxAliasCount })` gives up: the same count the `yaml` package
 * keeps (per anchor, how often it is used × how many values one use stands for), in the same
 * document order, so the diagnostic can point at it.
 */
const aliasOverLimit = (doc: Document.Parsed): Alias | undefined => {
  const uses = new Map<unknown, { count: number; aliasCount: number }>()
  const lastAnchor = new Map<string, Node>()
  const targetOf = new Map<Alias, Node>()
  const valuesOf = (node: unknown): number => {
    if (isAlias(node)) {
      const target = targetOf.get(node)
      const data = target && uses.get(target)
      return data ? data.count * data.aliasCount : 0
    }
    if (isCollection(node)) return node.items.reduce<number>((most, item) => Math.max(most, valuesOf(item)), 0)
    if (isPair(node)) return Math.max(valuesOf(node.key), valuesOf(node.value))
    return 1
  }
  let found: Alias | undefined
  visit(doc, {
    Node: (_, node) => {
      if (isAlias(node)) {
        const target = lastAnchor.get(node.source)
        if (target === undefined) return
        targetOf.set(node, target)
        const data = uses.get(target) ?? { count: 1, aliasCount: 0 }
        uses.set(target, data)
        data.count += 1
        if (data.aliasCount === 0) data.aliasCount = valuesOf(target)
        if (data.count * data.aliasCount > maxAliasCount) {
          found = node
          return visit.BREAK
        }
      } else if ((isScalar(node) || isCollection(node)) && node.anchor) {
        lastAnchor.set(node.anchor, node)
        uses.set(node, { count: 1, aliasCount: 0 })
      }
      return undefined
    }
  })
  return found
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
