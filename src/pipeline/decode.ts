/**
 * Pipeline YAML → the typed `Pipeline`, with every schema problem reported at its node.
 *
 * Sets are decoded one by one after choosing their kind from the key that marks it (`pairs`,
 * `matrix` or `rows`): a plain union would report each failure three times, once per kind.
 */
import { Either, ParseResult, Schema } from "effect"
import { checkBoundsOrder } from "./boundsOrder.ts"
import type { Diagnostic } from "./diagnostic.ts"
import { didYouMean } from "./didYouMean.ts"
import { withSourceTextAt } from "./scalarText.ts"
import { PipelineShell, setKinds, type Pipeline, type SetKind, type SetSpec } from "./schema.ts"
import { locate, type PathSegment, type YamlSource } from "./yamlSource.ts"

const parseOptions = { errors: "all", onExcessProperty: "error" } as const

const describePath = (path: ReadonlyArray<PathSegment>): string =>
  path.reduce<string>(
    (text, segment) => (typeof segment === "number" ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment),
    ""
  )

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1)

const issueToDiagnostic = (source: YamlSource, issue: ParseResult.ArrayFormatterIssue): Diagnostic => {
  const path = issue.path as ReadonlyArray<PathSegment>
  const key = String(path[path.length - 1] ?? "")
  const parent = path.slice(0, -1)
  if (issue._tag === "Unexpected") {
    const expected = [...issue.message.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? "")
    const suggestion = didYouMean(key, expected)
    const where = parent.length > 0 ? ` in ${describePath(parent)}` : ""
    const hint = suggestion ? ` (did you mean "${suggestion}"?)` : expected.length > 0 ? ` (expected one of: ${expected.join(", ")})` : ""
    return { file: source.file, ...locate(source, path, "key"), message: `unknown key "${key}"${where}${hint}` }
  }
  if (issue._tag === "Missing") {
    const where = parent.length > 0 ? describePath(parent) : "the pipeline"
    return { file: source.file, ...locate(source, parent), message: `${where} is missing the required key "${key}"` }
  }
  const message = lowerFirst(issue.message)
  return { file: source.file, ...locate(source, path), message: path.length > 0 ? `${describePath(path)}: ${message}` : message }
}

/** Schema issues at one place: keep the meaningful ones, drop "expected undefined" echoes of optional fields. */
const meaningful = (issues: ReadonlyArray<ParseResult.ArrayFormatterIssue>) =>
  issues.filter(
    (issue) =>
      !(issue._tag === "Type" && issue.message.startsWith("Expected undefined")) ||
      !issues.some((other) => other !== issue && startsWith(other.path, issue.path))
  )

const startsWith = (path: ReadonlyArray<PropertyKey>, prefix: ReadonlyArray<PropertyKey>) =>
  prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment)

const decodeWith = <A, I>(
  schema: Schema.Schema<A, I>,
  value: unknown,
  source: YamlSource,
  prefix: ReadonlyArray<PathSegment>
): Either.Either<A, ReadonlyArray<Diagnostic>> =>
  Schema.decodeUnknownEither(schema, parseOptions)(value).pipe(
    Either.mapLeft((error) =>
      meaningful(ParseResult.ArrayFormatter.formatErrorSync(error).map((i) => ({ ...i, path: [...prefix, ...i.path] }))).map(
        (issue) => issueToDiagnostic(source, issue)
      )
    )
  )

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const decodeSet = (source: YamlSource, name: string, raw: unknown): Either.Either<SetSpec, ReadonlyArray<Diagnostic>> => {
  const path = ["sets", name]
  if (!isRecord(raw)) {
    return Either.left([{ file: source.file, ...locate(source, path), message: `set "${name}" must be a mapping with one of pairs, matrix or rows` }])
  }
  const kinds = (Object.keys(setKinds) as Array<SetKind>).filter((kind) => kind in raw)
  if (kinds.length !== 1) {
    const message =
      kinds.length === 0
        ? `set "${name}" needs one of pairs, matrix or rows`
        : `set "${name}" has ${kinds.join(" and ")}: a set is exactly one kind, split it into separate sets`
    return Either.left([{ file: source.file, ...locate(source, path, "key"), message }])
  }
  const kind = kinds[0] as SetKind
  const decoded = decodeWith(setKinds[kind] as Schema.Schema<SetSpec, unknown>, raw, source, path)
  // `audio` is required unless the set speaks its voice track from a script.
  if (Either.isRight(decoded) && "pairs" in decoded.right && decoded.right.speech === undefined) {
    const missing = decoded.right.pairs.flatMap((pair, i) =>
      pair.audio === undefined
        ? [{ file: source.file, ...locate(source, [...path, "pairs", i]), message: `sets.${name}.pairs[${i}] is missing the required key "audio" (or give the set \`speech\`)` }]
        : []
    )
    if (missing.length > 0) return Either.left(missing)
  }
  return decoded
}

/** Decodes a parsed pipeline file; all problems come back together, each at its node. */
export const decodePipeline = (source: YamlSource): Either.Either<Pipeline, ReadonlyArray<Diagnostic>> => {
  if (!isRecord(source.value)) {
    return Either.left([
      { file: source.file, line: 1, column: 1, message: "a pipeline file is a YAML mapping with version, name and sets" }
    ])
  }
  const diagnostics: Array<Diagnostic> = []
  // Vars are text to templates: `007` must stay 007, not become 7.
  const shell = decodeWith(PipelineShell, withSourceTextAt(source.doc, source.value, "vars"), source, [])
  if (Either.isLeft(shell)) diagnostics.push(...shell.left)
  else diagnostics.push(...checkBoundsOrder(source, shell.right))
  const rawSets = source.value["sets"]
  const sets: Record<string, SetSpec> = {}
  if (isRecord(rawSets)) {
    if (Object.keys(rawSets).length === 0) {
      diagnostics.push({ file: source.file, ...locate(source, ["sets"]), message: "sets is empty: add at least one set" })
    }
    for (const [name, raw] of Object.entries(rawSets)) {
      const set = decodeSet(source, name, raw)
      if (Either.isLeft(set)) diagnostics.push(...set.left)
      else sets[name] = set.right
    }
  }
  if (diagnostics.length > 0 || Either.isLeft(shell)) return Either.left(diagnostics)
  return Either.right({ ...shell.right, sets })
}
