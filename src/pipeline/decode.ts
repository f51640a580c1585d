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
  path.reduce<string>((text, segment) => (typeof segment === "number" ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment), "")

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

type Issue = ParseResult.ArrayFormatterIssue

/** Every meaningful issue of decoding `value` with `schema`, paths prefixed; unknown keys refused, or ignored. */
const issuesOf = <A, I>(
  schema: Schema.Schema<A, I>,
  value: unknown,
  prefix: ReadonlyArray<PathSegment>,
  excess: "error" | "ignore" = "error"
): Either.Either<A, ReadonlyArray<Issue>> =>
  Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: excess })(value).pipe(
    Either.mapLeft((error) =>
      meaningful(ParseResult.ArrayFormatter.formatErrorSync(error).map((i) => ({ ...i, path: [...prefix, ...i.path] })))
    )
  )

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

/** A set's problems, and the set as far as it can still be expanded (undefined when it cannot). */
interface DecodedPart<A> {
  readonly diagnostics: ReadonlyArray<Diagnostic>
  readonly checkable: A | undefined
}

const decodeSet = (source: YamlSource, name: string, raw: unknown): DecodedPart<SetSpec> => {
  const path = ["sets", name]
  const fail = (diagnostics: ReadonlyArray<Diagnostic>): DecodedPart<SetSpec> => ({ diagnostics, checkable: undefined })
  if (!isRecord(raw)) {
    return fail([
      { file: source.file, ...locate(source, path), message: `set "${name}" must be a mapping with one of pairs, matrix or rows` }
    ])
  }
  const kinds = (Object.keys(setKinds) as Array<SetKind>).filter((kind) => kind in raw)
  if (kinds.length !== 1) {
    const message =
      kinds.length === 0
        ? `set "${name}" needs one of pairs, matrix or rows`
        : `set "${name}" has ${kinds.join(" and ")}: a set is exactly one kind, split it into separate sets`
    return fail([{ file: source.file, ...locate(source, path, "key"), message }])
  }
  const schema = setKinds[kinds[0] as SetKind] as Schema.Schema<SetSpec, unknown>
  const strict = issuesOf(schema, raw, path)
  // `audio` is required unless the set speaks its voice track from a script: read from the file
  // as written, so it is reported together with the set's other problems.
  const pairs = raw["pairs"]
  const missingAudio =
    Array.isArray(pairs) && raw["speech"] === undefined
      ? pairs.flatMap((pair: unknown, i) =>
          isRecord(pair) && pair["audio"] === undefined
            ? [
                {
                  file: source.file,
                  ...locate(source, [...path, "pairs", i]),
                  message: `sets.${name}.pairs[${i}] is missing the required key "audio" (or give the set \`speech\`)`
                }
              ]
            : []
        )
      : []
  const diagnostics = [...(Either.isLeft(strict) ? strict.left.map((issue) => issueToDiagnostic(source, issue)) : []), ...missingAudio]
  // Unknown keys alone leave the rest of the set to check: it is expanded as if they were not there.
  const set = Either.isRight(strict)
    ? strict.right
    : strict.left.every((issue) => issue._tag === "Unexpected")
      ? Either.getOrUndefined(issuesOf(schema, raw, path, "ignore"))
      : undefined
  return { diagnostics, checkable: missingAudio.length > 0 ? undefined : set }
}

/** Top-level fields without which the sets cannot be expanded as the author meant: a problem in one stops there. */
const expansionFields = new Set(["vars", "output", "sets"])

/**
 * The top level as far as it can be checked: the fields with problems left out (`run`,
 * `provider`, `description`: nothing the expansion reads), `version` and `name` stood in for
 * (1 and "pipeline": the name only places the state folder the outputs must keep out of),
 * unknown keys ignored.
 * Undefined when a problem is in what the expansion reads (`vars`, `output`, `sets`).
 */
const checkableShell = (value: Record<string, unknown>, issues: ReadonlyArray<Issue>) => {
  const broken = new Set(issues.filter((issue) => issue._tag !== "Unexpected").map((issue) => String(issue.path[0] ?? "")))
  if ([...broken].some((field) => field === "" || expansionFields.has(field))) return undefined
  const repaired: Record<string, unknown> = { ...value }
  for (const field of broken) delete repaired[field]
  if (broken.has("version")) repaired["version"] = 1
  if (broken.has("name")) repaired["name"] = "pipeline"
  return Either.getOrUndefined(issuesOf(PipelineShell, repaired, [], "ignore"))
}

export interface DecodedPipeline {
  /** Every problem found, each at its node. */
  readonly diagnostics: ReadonlyArray<Diagnostic>
  /**
   * The pipeline when there are no problems; else, when the problems leave one, the part that
   * can still be expanded and have its inputs read (unknown keys ignored, bad sets and fields
   * the expansion does not read left out), so that one run reports every problem of the file.
   */
  readonly checkable: Pipeline | undefined
}

/** Decodes a parsed pipeline file: every problem together, each at its node, and what can still be checked. */
export const decodePipelineAll = (source: YamlSource): DecodedPipeline => {
  if (!isRecord(source.value)) {
    return {
      diagnostics: [{ file: source.file, line: 1, column: 1, message: "a pipeline file is a YAML mapping with version, name and sets" }],
      checkable: undefined
    }
  }
  const diagnostics: Array<Diagnostic> = []
  // Vars are text to templates: `007` must stay 007, not become 7.
  const value = withSourceTextAt(source.doc, source.value, "vars") as Record<string, unknown>
  const strict = issuesOf(PipelineShell, value, [])
  if (Either.isLeft(strict)) diagnostics.push(...strict.left.map((issue) => issueToDiagnostic(source, issue)))
  const shell = Either.isRight(strict) ? strict.right : checkableShell(value, strict.left)
  if (shell) diagnostics.push(...checkBoundsOrder(source, shell))
  const rawSets = source.value["sets"]
  const sets: Record<string, SetSpec> = {}
  if (isRecord(rawSets)) {
    if (Object.keys(rawSets).length === 0) {
      diagnostics.push({ file: source.file, ...locate(source, ["sets"]), message: "sets is empty: add at least one set" })
    }
    for (const [name, raw] of Object.entries(rawSets)) {
      const set = decodeSet(source, name, raw)
      diagnostics.push(...set.diagnostics)
      if (set.checkable) sets[name] = set.checkable
    }
  }
  return { diagnostics, checkable: shell ? { ...shell, sets } : undefined }
}

/** Decodes a parsed pipeline file; all problems come back together, each at its node. */
export const decodePipeline = (source: YamlSource): Either.Either<Pipeline, ReadonlyArray<Diagnostic>> => {
  const decoded = decodePipelineAll(source)
  return decoded.diagnostics.length > 0 || decoded.checkable === undefined
    ? Either.left(decoded.diagnostics)
    : Either.right(decoded.checkable)
}
