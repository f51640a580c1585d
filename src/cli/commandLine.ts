/**
 * The command line as data, read from the @effect/cli definitions themselves: each command's
 * name and description, its options (names, whether and what value they take, repeatable,
 * default) and its arguments, and the built-in options @effect/cli adds to every command. The
 * argv pre-check (argvCheck.ts) and the help (help.ts) both read this, so neither keeps a list of
 * flags that could drift from the commands.
 *
 * Names and values come from each command's `Usage` and texts from its `HelpDoc` (both public
 * @effect/cli API). Defaults are the one thing the public API leaves out (0.77's help prints
 * "This setting is optional." for `Options.withDefault(8787)`), so they are read from the
 * options' own tree, defensively: an unexpected shape means no default shown, never an error.
 */
import { BuiltInOptions, CliConfig, Command, HelpDoc, Options, type Span, type Usage } from "@effect/cli"
import { Option } from "effect"

export interface OptionSpec {
  /** Every name, as typed: `--concurrency`; `--help`, `-h`. */
  readonly names: ReadonlyArray<string>
  /** The kind of value it takes (`integer`, `float`, `text`, `KIND=RATE`); undefined for a flag that takes none. */
  readonly value: string | undefined
  /** The values it accepts, when it names them (`--completions sh | bash | fish | zsh`). */
  readonly choices: ReadonlyArray<string> | undefined
  readonly repeatable: boolean
  readonly description: string
  /** Its default as text, when it has one worth showing (not `false`, not "none"). */
  readonly defaultValue: string | undefined
}

export interface ArgumentSpec {
  /** As shown: `FILE`. */
  readonly name: string
  readonly min: number
  /** `Infinity` for as many as given. */
  readonly max: number
  readonly description: string
}

export interface CommandSpec {
  readonly name: string
  readonly description: string
  readonly options: ReadonlyArray<OptionSpec>
  readonly arguments: ReadonlyArray<ArgumentSpec>
}

export interface CommandLineSpec {
  /** The program: `clapper`. */
  readonly name: string
  readonly version: string
  readonly description: string
  readonly commands: ReadonlyArray<CommandSpec>
  /** What @effect/cli accepts on every command: --help/-h, --version, --completions, --log-level, --wizard. */
  readonly builtIns: ReadonlyArray<OptionSpec>
}

/** The built-ins help lists, in this order (once, at the top level); the others still work but are not advertised. */
export const advertisedBuiltIns: ReadonlyArray<string> = ["--help", "--version", "--completions"]

// ---------------------------------------------------------------------------------------------
// Usage: names, values, repetition

interface UsageEntry {
  readonly names: ReadonlyArray<string>
  readonly accepted: string | undefined
  readonly repeated: boolean
  readonly optional: boolean
}

const usageEntries = (usage: Usage.Usage, repeated = false, optional = false): Array<UsageEntry> => {
  switch (usage._tag) {
    case "Named":
      return [{ names: usage.names, accepted: Option.getOrUndefined(usage.acceptedValues), repeated, optional }]
    case "Optional":
      return usageEntries(usage.usage, repeated, true)
    case "Repeated":
      return usageEntries(usage.usage, true, optional)
    case "Alternation":
      return [...usageEntries(usage.left, repeated, true), ...usageEntries(usage.right, repeated, true)]
    case "Concat":
      return [...usageEntries(usage.left, repeated, optional), ...usageEntries(usage.right, repeated, optional)]
    case "Empty":
    case "Mixed":
      return []
  }
}

// ---------------------------------------------------------------------------------------------
// HelpDoc: descriptions

const spanText = (span: Span.Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    case "Highlight":
    case "Strong":
    case "Weak":
      return spanText(span.value)
  }
}

const blocks = (doc: HelpDoc.HelpDoc): Array<HelpDoc.HelpDoc> =>
  doc._tag === "Sequence" ? [...blocks(doc.left), ...blocks(doc.right)] : doc._tag === "Empty" ? [] : [doc]

const paragraphs = (doc: HelpDoc.HelpDoc): Array<string> =>
  blocks(doc).flatMap((block) => (block._tag === "Paragraph" ? [spanText(block.value).trim()] : []))

interface HelpRow {
  readonly label: string
  /** The primitive's own sentence first ("An integer."), then the description, then notes @effect/cli adds. */
  readonly paragraphs: ReadonlyArray<string>
}

/** A command's help, by section: DESCRIPTION's paragraphs, ARGUMENTS' and OPTIONS' rows. */
const helpSections = (doc: HelpDoc.HelpDoc) => {
  const description: Array<string> = []
  const rows = new Map<string, Array<HelpRow>>()
  let section = ""
  for (const block of blocks(doc)) {
    if (block._tag === "Header") section = spanText(block.value).trim().toUpperCase()
    else if (block._tag === "Paragraph" && section === "DESCRIPTION") description.push(spanText(block.value).trim())
    else if (block._tag === "DescriptionList") {
      const list = rows.get(section) ?? []
      for (const [label, body] of block.definitions) list.push({ label: spanText(label), paragraphs: paragraphs(body) })
      rows.set(section, list)
    }
  }
  return { description: description.join(" "), rows }
}

/** Notes @effect/cli adds to every option or argument, which the help says its own way (or not at all). */
const boilerplate = [
  /^This setting is optional\.( Defaults to: .*)?$/,
  /^This (option|argument) may be repeated zero or more times\.$/,
  /^This (option|argument) must be repeated at least \d+ times?( and may be repeated up to \d+ times)?\.$/
]

/** The row's own description: without the primitive's sentence (always first) and the boilerplate. */
const describedBy = (row: HelpRow | undefined): string =>
  (row?.paragraphs.slice(1) ?? []).filter((text) => text !== "" && !boilerplate.some((pattern) => pattern.test(text))).join(" ")

const flagsIn = (label: string): Array<string> => [...label.matchAll(/(?<![\w-])--?[A-Za-z][\w-]*/g)].map((m) => m[0])

const rowFor = (rows: ReadonlyArray<HelpRow>, names: ReadonlyArray<string>): HelpRow | undefined =>
  rows.find((row) => flagsIn(row.label).some((flag) => names.includes(flag)))

// ---------------------------------------------------------------------------------------------
// Defaults, from the options' tree

type Node = { readonly [key: string]: unknown }
const isNode = (value: unknown): value is Node => typeof value === "object" && value !== null

/** The long name of the single option under `node`, through the wrappers that keep one option one. */
const singleName = (node: unknown): string | undefined => {
  if (!isNode(node)) return undefined
  if (node["_tag"] === "Single") return typeof node["fullName"] === "string" ? node["fullName"] : undefined
  if (node["_tag"] === "Map" || node["_tag"] === "WithDefault" || node["_tag"] === "WithFallback") return singleName(node["options"])
  return undefined
}

const shownDefault = (value: unknown): string | undefined => {
  if (typeof value === "number" && Number.isFinite(value)) return String(value)
  if (typeof value === "string" && value !== "") return value
  // false for a flag, Option.none() for Options.optional, [] for Options.repeated: nothing to say.
  return undefined
}

/** Long option name → its default as text, for the options under a command's descriptor. */
const optionDefaults = (descriptor: unknown): ReadonlyMap<string, string> => {
  const defaults = new Map<string, string>()
  const visitOptions = (node: unknown, depth: number): void => {
    if (!isNode(node) || depth > 200) return
    switch (node["_tag"]) {
      case "WithDefault": {
        const name = singleName(node["options"])
        const shown = shownDefault(node["fallback"])
        if (name !== undefined && shown !== undefined && !defaults.has(name)) defaults.set(name, shown)
        return visitOptions(node["options"], depth + 1)
      }
      case "Both":
      case "OrElse":
        visitOptions(node["left"], depth + 1)
        return visitOptions(node["right"], depth + 1)
      case "Map":
      case "WithFallback":
        return visitOptions(node["options"], depth + 1)
      case "Variadic":
      case "KeyValueMap":
        return visitOptions(node["argumentOption"], depth + 1)
    }
  }
  const visitCommand = (node: unknown, depth: number): void => {
    if (!isNode(node) || depth > 20) return
    if (node["_tag"] === "Standard") visitOptions(node["options"], 0)
    else if (node["_tag"] === "Map") visitCommand(node["command"], depth + 1)
  }
  visitCommand(descriptor, 0)
  return defaults
}

// ---------------------------------------------------------------------------------------------

const optionSpecs = (usage: Usage.Usage, rows: ReadonlyArray<HelpRow>, defaults: ReadonlyMap<string, string>): Array<OptionSpec> =>
  usageEntries(usage)
    .filter((entry) => entry.names[0]?.startsWith("-") === true)
    .map((entry) => {
      // Long names first: `--help`, then `-h`.
      const names = [...entry.names].sort((a, b) => (a.startsWith("--") === b.startsWith("--") ? 0 : a.startsWith("--") ? -1 : 1))
      const choices = entry.accepted?.includes(" | ") ? entry.accepted.split(" | ").map((c) => c.trim()) : undefined
      return {
        names,
        value: entry.accepted,
        choices,
        repeatable: entry.repeated,
        description: describedBy(rowFor(rows, names)),
        defaultValue: names.map((name) => defaults.get(name)).find((d) => d !== undefined)
      }
    })

/** How many times an argument may be given, from its help row: "<FILE>" once, "<FILE>..." any number, "<FILE> 1+" at least one. */
const argumentCount = (entry: UsageEntry, row: HelpRow | undefined): { min: number; max: number } => {
  const label = row?.label ?? ""
  const range = / (\d+) - (\d+)$/.exec(label)
  const atLeast = / (\d+)\+$/.exec(label)
  const base = range
    ? { min: Number(range[1]), max: Number(range[2]) }
    : atLeast
      ? { min: Number(atLeast[1]), max: Infinity }
      : entry.repeated
        ? { min: 0, max: Infinity }
        : { min: 1, max: 1 }
  return entry.optional ? { ...base, min: 0 } : base
}

const argumentSpecs = (usage: Usage.Usage, rows: ReadonlyArray<HelpRow>): Array<ArgumentSpec> =>
  usageEntries(usage)
    .filter((entry) => entry.names[0]?.startsWith("<") === true)
    .map((entry) => {
      const label = entry.names[0] ?? ""
      const row = rows.find((r) => r.label.startsWith(label))
      return { name: label.replace(/^<|>$/g, ""), ...argumentCount(entry, row), description: describedBy(row) }
    })

// Any command (Command is invariant in its name and types): only its name, usage, help and descriptor are read.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = Command.Command<any, any, any, any>

const nameOf = (command: AnyCommand): string => [...Command.getNames(command)][0] ?? ""

/** The command line of `root` (a command with `commands` as its subcommands, in the order given). */
export const describeCommandLine = (params: {
  readonly name: string
  readonly version: string
  readonly root: AnyCommand
  readonly commands: ReadonlyArray<AnyCommand>
  readonly config?: CliConfig.CliConfig
}): CommandLineSpec => {
  const config = params.config ?? CliConfig.make({ showBuiltIns: false })
  const root = params.root
  const rootHelp = helpSections(Command.getHelp(root, config))
  const builtIns = BuiltInOptions.builtInOptions(root.descriptor, Command.getUsage(root), HelpDoc.empty)
  const builtInRows = helpSections(HelpDoc.sequence(HelpDoc.h1("OPTIONS"), Options.getHelp(builtIns))).rows.get("OPTIONS") ?? []
  return {
    name: params.name,
    version: params.version,
    description: rootHelp.description,
    builtIns: optionSpecs(Options.getUsage(builtIns), builtInRows, new Map()),
    commands: params.commands.map((command) => {
      const usage = Command.getUsage(command)
      const help = helpSections(Command.getHelp(command, config))
      return {
        name: nameOf(command),
        description: help.description,
        options: optionSpecs(usage, help.rows.get("OPTIONS") ?? [], optionDefaults(command.descriptor)),
        arguments: argumentSpecs(usage, help.rows.get("ARGUMENTS") ?? [])
      }
    })
  }
}
