/**
 * `clapper --help` and `clapper COMMAND --help`, from the command line's description
 * (commandLine.ts): the usage line naming `clapper`, what the command does, its arguments and
 * options in two columns with their defaults, the built-in options once at the top level. Plain
 * text when stdout is not a terminal or NO_COLOR is set; otherwise headings in bold, nothing more.
 */
import { usageLine } from "./argvCheck.ts"
import { advertisedBuiltIns, type CommandLineSpec, type CommandSpec, type OptionSpec } from "./commandLine.ts"

export interface HelpStyle {
  /** Bold headings (ANSI). */
  readonly color: boolean
  /** Columns to wrap at. */
  readonly width: number
}

/** Colour only on a terminal, and not with NO_COLOR (any non-empty value) or TERM=dumb; wrapped to the terminal, else 80 columns. */
export const helpStyleFor = (
  stream: { readonly isTTY?: boolean | undefined; readonly columns?: number | undefined },
  env: Readonly<Record<string, string | undefined>>
): HelpStyle => {
  const tty = stream.isTTY === true
  return {
    color: tty && (env["NO_COLOR"] ?? "") === "" && env["TERM"] !== "dumb",
    width: tty && stream.columns !== undefined && stream.columns > 0 ? Math.max(40, Math.min(stream.columns, 100)) : 80
  }
}

const heading = (text: string, style: HelpStyle) => (style.color ? `\u001b[1m${text}\u001b[0m` : text)

/** Words of `text` in lines of at most `width` columns (a longer word keeps a line of its own). */
export const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === "") line = word
    else if (line.length + 1 + word.length <= width) line += ` ${word}`
    else {
      lines.push(line)
      line = word
    }
  }
  if (line !== "") lines.push(line)
  return lines
}

/** Two columns: labels padded to the widest (up to 26 columns; a longer label has its line alone), texts wrapped beside them. */
const table = (rows: ReadonlyArray<readonly [string, string]>, style: HelpStyle): Array<string> => {
  const indent = "  "
  const labelWidth = Math.min(Math.max(0, ...rows.map(([label]) => label.length)), 26)
  const textWidth = Math.max(30, style.width - indent.length - labelWidth - 2)
  const under = " ".repeat(indent.length + labelWidth + 2)
  return rows.flatMap(([label, text]) => {
    const lines = wrap(text, textWidth)
    if (label.length > labelWidth) return [`${indent}${label}`, ...lines.map((l) => `${under}${l}`)]
    const [first = "", ...rest] = lines
    return [`${indent}${label.padEnd(labelWidth)}  ${first}`.trimEnd(), ...rest.map((l) => `${under}${l}`)]
  })
}

const placeholders: Readonly<Record<string, string>> = {
  integer: "N",
  float: "NUMBER",
  text: "TEXT",
  redacted: "SECRET",
  secret: "SECRET",
  file: "FILE",
  directory: "FOLDER",
  path: "PATH",
  date: "DATE"
}

/** `--concurrency N`, `--quota KIND=RATE`, `--completions sh|bash|fish|zsh`, `-h, --help`. */
const optionLabel = (option: OptionSpec): string => {
  const names = [...option.names].sort((a, b) => a.length - b.length).join(", ")
  if (option.value === undefined) return names
  return `${names} ${option.choices ? option.choices.join("|") : (placeholders[option.value] ?? option.value)}`
}

const sentence = (text: string) => (text === "" || /[.!?)]$/.test(text) ? text : `${text}.`)

/** The description, then "Repeatable." and "Default: …" unless it says so itself. */
const optionText = (option: OptionSpec): string =>
  [
    sentence(option.description),
    option.repeatable && !/repeat/i.test(option.description) ? "Repeatable." : "",
    option.defaultValue !== undefined && !/default/i.test(option.description) ? `Default: ${option.defaultValue}.` : ""
  ]
    .filter(Boolean)
    .join(" ")

const section = (title: string, lines: ReadonlyArray<string>, style: HelpStyle) =>
  lines.length > 0 ? ["", heading(title, style), ...lines] : []

/** `clapper --help`: the commands with their arguments, the built-in options once. */
export const rootHelp = (spec: CommandLineSpec, style: HelpStyle): string => {
  const commandRows = spec.commands.map(
    (c) => [usageLine(spec, c).replace(`${spec.name} `, "").replace(" [OPTIONS]", ""), c.description] as const
  )
  const builtIns = advertisedBuiltIns.flatMap((name) => spec.builtIns.filter((o) => o.names.includes(name)))
  return [
    ...wrap(`${spec.name} ${spec.version}: ${spec.description}`, style.width),
    "",
    `${heading("Usage:", style)} ${usageLine(spec, undefined)}`,
    ...section("Commands:", table(commandRows, style), style),
    ...section(
      "Options:",
      table(
        builtIns.map((o) => [optionLabel(o), optionText(o)] as const),
        style
      ),
      style
    ),
    "",
    ...wrap(
      `"${spec.name} COMMAND --help" shows a command's arguments and options. Shell completions: ${spec.name} --completions bash (or zsh, fish, sh) prints a script to load in your shell.`,
      style.width
    )
  ].join("\n")
}

/** `clapper COMMAND --help`: usage, what it does, its arguments and options (no built-ins). */
export const commandHelp = (spec: CommandLineSpec, command: CommandSpec, style: HelpStyle): string =>
  [
    `${heading("Usage:", style)} ${usageLine(spec, command)}`,
    "",
    ...wrap(command.description, style.width),
    ...section(
      "Arguments:",
      table(
        command.arguments.map((a) => [a.name, sentence(a.description)] as const),
        style
      ),
      style
    ),
    ...section(
      "Options:",
      table(
        command.options.map((o) => [optionLabel(o), optionText(o)] as const),
        style
      ),
      style
    )
  ].join("\n")
