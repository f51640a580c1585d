/**
 * `clapper run --json`: every `RunEvent` exactly as the runtime emitted it, one JSON object per
 * line on stdout and nothing else there. `ndjsonDocs` describes the lines for the README; it is
 * generated from the `RunEvent` schema (its events, their fields, which are optional, and their
 * descriptions), so it cannot fall behind the events.
 */
import { Option, SchemaAST } from "effect"
import { commonFields, JobStep, RunEvent } from "../../runtime/events.ts"

/** One NDJSON line (with its newline) for `event`. */
export const ndjsonLine = (event: RunEvent): string => `${JSON.stringify(event)}\n`

/** What Effect says of a bare `Schema.String`, `Schema.Number`…: no description of a field. */
const keywordDescriptions: ReadonlySet<string> = new Set(
  [SchemaAST.stringKeyword, SchemaAST.numberKeyword, SchemaAST.booleanKeyword, SchemaAST.bigIntKeyword, SchemaAST.objectKeyword].flatMap(
    (keyword) => Option.toArray(SchemaAST.getDescriptionAnnotation(keyword))
  )
)

/** The description given to a field or an event (none for a bare `Schema.String`). */
export const describedAs = (ast: SchemaAST.AST): string | undefined => {
  const text = Option.getOrUndefined(SchemaAST.getDescriptionAnnotation(ast))
  return text === undefined || keywordDescriptions.has(text) ? undefined : text
}

/** Markdown table cells cannot hold a bare `|`. */
const cell = (text: string) => text.replace(/(?<!\\)\|/g, "\\|")

const code = (text: string) => `\`${text}\``

/** The struct a field holds, itself or as the elements of an array. */
const structOf = (ast: SchemaAST.AST): SchemaAST.TypeLiteral | undefined =>
  SchemaAST.isTypeLiteral(ast)
    ? ast
    : SchemaAST.isTupleType(ast) && ast.elements.length === 0 && ast.rest.length === 1
      ? structOf(ast.rest[0]!.type)
      : undefined

/** The values of a field that is one of a few literals (`key-refused` \| `state-unwritable`). */
const literalsOf = (ast: SchemaAST.AST): ReadonlyArray<SchemaAST.LiteralValue> | undefined => {
  if (SchemaAST.isLiteral(ast)) return [ast.literal]
  if (!SchemaAST.isUnion(ast)) return undefined
  const values = ast.types.map((member) => (SchemaAST.isLiteral(member) ? member.literal : undefined))
  return values.every((v) => v !== undefined) ? values : undefined
}

/** A job step: the list of steps is above the table, not repeated at each. */
const isJobStep = (literals: ReadonlyArray<SchemaAST.LiteralValue>) =>
  literals.length === JobStep.literals.length && JobStep.literals.every((step, i) => literals[i] === step)

/** `a` \| `b`: the values a field may take, unless it is a job step. */
const valuesText = (ast: SchemaAST.AST): string | undefined => {
  const literals = literalsOf(ast)
  return literals === undefined || isJobStep(literals) ? undefined : literals.map((v) => code(String(v))).join(" | ")
}

/** Fields documented once above the table: listed without a note. */
const documentedAbove: ReadonlySet<string> = new Set(["job", "videoId"])

/** A field as the table lists it: `name`, `?` when it may be absent, and what it holds. */
const field = (ps: SchemaAST.PropertySignature, depth: number): string => {
  const name = `${code(String(ps.name))}${ps.isOptional ? "?" : ""}`
  const struct = structOf(ps.type)
  // Inside braces, names only (and the values of a literal field): the field's own note is outside.
  if (depth >= 2) {
    const values = valuesText(ps.type)
    return struct ? `${name}: {${fields(struct, depth + 1)}}` : values ? `${name}: ${values}` : name
  }
  if (documentedAbove.has(String(ps.name))) return name
  const note = describedAs(ps.type)
  // A struct field of an event (the summary) is spelled out in place, each field with its note.
  if (struct && depth === 0 && SchemaAST.isTypeLiteral(ps.type))
    return `${name}${note === undefined ? "" : ` (${note})`}: ${fields(struct, 1)}`
  const shape = struct ? `{${fields(struct, 2)}}` : valuesText(ps.type)
  const text = [shape, note].filter((part) => part !== undefined).join(": ")
  return text === "" ? name : `${name} (${text})`
}

const fields = (struct: SchemaAST.TypeLiteral, depth: number): string =>
  struct.propertySignatures
    .filter((ps) => depth > 0 || (ps.name !== "type" && ps.name !== "at"))
    .map((ps) => field(ps, depth))
    .join(", ")

/** Each event: its `type`, what it means, and its other fields. */
export const ndjsonEvents: ReadonlyArray<{ readonly type: string; readonly ast: SchemaAST.TypeLiteral }> = RunEvent.members.map(
  (member) => {
    const ast = member.ast
    const type = SchemaAST.isTypeLiteral(ast) ? ast.propertySignatures.find((ps) => ps.name === "type")?.type : undefined
    if (!SchemaAST.isTypeLiteral(ast) || type === undefined || !SchemaAST.isLiteral(type))
      throw new Error("every RunEvent is a struct with a literal `type`")
    return { type: String(type.literal), ast }
  }
)

const row = ({ type, ast }: (typeof ndjsonEvents)[number]) =>
  `| ${code(type)} | ${cell(describedAs(ast) ?? "")} | ${cell(fields(ast, 0))} |`

const common = (name: keyof typeof commonFields) => describedAs(commonFields[name].ast)

/** `text` as lines of at most `width` characters, broken between words. */
const wrap = (text: string, width: number) =>
  text
    .split(" ")
    .reduce<Array<string>>((lines, word) => {
      const last = lines[lines.length - 1]
      if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`
      else lines.push(word)
      return lines
    }, [])
    .join("\n")

const preamble = [
  "With `--json`, `clapper run` prints one JSON object per line on stdout and nothing else there.",
  `Every object has \`type\` and \`at\` (${common("at")}). Job events also have \`job\`: ${common("job")}.`,
  `\`videoId\` is ${common("videoId")}; a \`step\` is one of ${JobStep.literals.map(code).join(", ")}.`,
  "Amounts are estimates in US dollars, times in milliseconds. Fields marked ? may be absent; new fields and event types may be added."
].join(" ")

/** The NDJSON output, documented: Markdown for the README or `--help`. */
export const ndjsonDocs = `\
${wrap(preamble, 100)}

| \`type\` | Meaning | Other fields |
| --- | --- | --- |
${ndjsonEvents.map(row).join("\n")}
`
