/**
 * The lock file's layout, version 2: one JSON document, one line per output, so a git diff shows
 * one line per changed output and the file is read line by line, never as one giant string.
 *
 *     {"version":2,"pipeline":"outreach","outputs":{
 *     "renders/a.mp4":{"costUsd":0.9,…},
 *     "renders/b.mp4":{…}
 *     }}
 *
 * Outputs sorted by id (code-unit order), each entry compact JSON with keys sorted at every level;
 * an empty lock is the first line and the last. JSON escapes every line break inside a string, so
 * a line never holds half an entry.
 */

import type { LockEntry, LockInput } from "./lockFile.ts"

export const lockVersion = 2

/** The versions this Clapper reads: 1 (pretty JSON, one key per line) is read and written again as 2. */
export const readableLockVersions: ReadonlyArray<number> = [1, lockVersion]

const byCodeUnits = ([a]: readonly [string, unknown], [b]: readonly [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0)

const sortingReplacer = (_: string, value: unknown) =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(byCodeUnits)) : value

/** A value's stable text: compact JSON with the keys of every object sorted. */
export const sortedJson = (value: unknown): string => JSON.stringify(value, sortingReplacer)

export const lockHeader = (pipeline: string) => `{"version":${lockVersion},"pipeline":${JSON.stringify(pipeline)},"outputs":{`

export const lockFooter = "}}"

const text = JSON.stringify
const inputJson = (input: LockInput) => `{"path":${text(input.path)},"sha256":${text(input.sha256)}}`

const isInput = (v: unknown): v is LockInput =>
  typeof v === "object" &&
  v !== null &&
  Object.keys(v).length === 2 &&
  typeof (v as LockInput).path === "string" &&
  typeof (v as LockInput).sha256 === "string"

/**
 * Exactly the fields of a `LockEntry`, of their types: what the field-by-field writer covers, and
 * what the reader takes without the schema's decoder (which then only explains a refusal).
 */
export const isPlainEntry = (e: LockEntry): e is LockEntry =>
  typeof e === "object" &&
  e !== null &&
  Object.keys(e).length === 8 &&
  typeof e.costUsd === "number" &&
  typeof e.durationSeconds === "number" &&
  typeof e.fingerprint === "string" &&
  typeof e.model === "string" &&
  typeof e.videoId === "string" &&
  typeof e.inputs === "object" &&
  e.inputs !== null &&
  Object.keys(e.inputs).length === (e.inputs.audio === undefined ? 1 : 2) &&
  isInput(e.inputs.image) &&
  (e.inputs.audio === undefined || isInput(e.inputs.audio)) &&
  typeof e.output === "object" &&
  e.output !== null &&
  Object.keys(e.output).length === 2 &&
  typeof e.output.sha256 === "string" &&
  typeof e.output.size === "number" &&
  typeof e.parameters === "object" &&
  e.parameters !== null &&
  !Array.isArray(e.parameters)

/**
 * `sortedJson(entry)`, written field by field in sorted order: the replacer's object per level
 * made a 100,000-entry lock's lines cost seconds at a run's start. Only `parameters` (free-form)
 * goes through `sortedJson`, and so does anything not shaped as a `LockEntry`. A property test
 * holds the two equal.
 */
export const lockEntryJson = (entry: LockEntry): string => {
  if (!isPlainEntry(entry)) return sortedJson(entry)
  const { inputs, output } = entry
  const audio = inputs.audio === undefined ? "" : `"audio":${inputJson(inputs.audio)},`
  return `{"costUsd":${text(entry.costUsd)},"durationSeconds":${text(entry.durationSeconds)},"fingerprint":${text(entry.fingerprint)},"inputs":{${audio}"image":${inputJson(inputs.image)}},"model":${text(entry.model)},"output":{"sha256":${text(output.sha256)},"size":${text(output.size)}},"parameters":${sortedJson(entry.parameters)},"videoId":${text(entry.videoId)}}`
}

/** One output's line, without the comma that separates it from the next. */
export const lockLine = (id: string, entry: LockEntry) => `${JSON.stringify(id)}:${lockEntryJson(entry)}`

const separator = Buffer.from(",\n")
const newline = Buffer.from("\n")

/**
 * The lock file's bytes from its lines, already in id order. Bytes, not a string: 100,000
 * outputs are about 60 MB, and joining cached buffers is a copy (three times faster than joining
 * strings), with no limit from V8's longest string.
 */
export const assembleLock = (pipeline: string, orderedLines: ReadonlyArray<Uint8Array>): Buffer => {
  const parts: Array<Uint8Array> = [Buffer.from(`${lockHeader(pipeline)}\n`)]
  for (const [n, line] of orderedLines.entries()) {
    if (n > 0) parts.push(separator)
    parts.push(line)
  }
  if (orderedLines.length > 0) parts.push(newline)
  parts.push(Buffer.from(`${lockFooter}\n`))
  return Buffer.concat(parts)
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const parseOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The version and pipeline of a first line in the layout above; `undefined` for any other line. */
export const parseHeaderLine = (line: string): { readonly version: unknown; readonly pipeline: unknown } | undefined => {
  if (!line.startsWith(`{"version":`) || !line.endsWith(`,"outputs":{`)) return undefined
  const head = parseOrUndefined(`${line}${lockFooter}`)
  if (!isRecord(head) || Object.keys(head).join() !== "version,pipeline,outputs") return undefined
  return { version: head["version"], pipeline: head["pipeline"] }
}

export interface EntryLine {
  readonly id: string
  /** Not yet checked against the entry's schema. */
  readonly entry: unknown
  /** Whether it ends with the comma that says another entry follows. */
  readonly more: boolean
}

/** An output's line in the layout above; `undefined` for any other line. */
export const parseEntryLine = (line: string): EntryLine | undefined => {
  if (!line.startsWith(`"`)) return undefined
  // The id's closing quote: JSON escapes every quote inside it with a backslash. Id and entry are
  // parsed apart, each from its own slice: half the time of parsing the line as one object.
  let end = 1
  while (end < line.length && line[end] !== `"`) end += line[end] === "\\" ? 2 : 1
  if (line[end + 1] !== ":") return undefined
  const more = line.endsWith(",")
  const id = parseOrUndefined(line.slice(0, end + 1))
  const entry = parseOrUndefined(line.slice(end + 2, more ? -1 : undefined))
  return typeof id === "string" && entry !== undefined ? { id, entry, more } : undefined
}
