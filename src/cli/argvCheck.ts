/**
 * The command line checked before @effect/cli parses it, so a mistake is named as the user wrote
 * it: `--concurency 4 FILE` is an unknown option (did you mean "--concurrency"?), not "unknown
 * argument '4'"; `valdate` is an unknown command (did you mean "validate"?); `--simm FILE` does
 * not blame the file. Every problem of the line is listed at once.
 *
 * It follows @effect/cli's rules, so it never refuses what @effect/cli would run: names match
 * without regard to case, `--name=value` is `--name value` (except for a repeatable option,
 * which @effect/cli would take for an argument: refused, saying so), a flag may be followed by
 * true/false (yes, no, on, off, 1, 0), `--` ends the options. Values it checks are the ones
 * @effect/cli checks by type (integers, numbers, choices); the commands check the rest
 * (`--quota`'s KIND=RATE) with their own messages. Pure: no I/O.
 */
import { Either, Schema } from "effect"
import { didYouMean } from "../pipeline/didYouMean.ts"
import type { CommandLineSpec, CommandSpec, OptionSpec } from "./commandLine.ts"

export type ArgvOutcome =
  /** Nothing wrong found: @effect/cli takes it from here. */
  | { readonly _tag: "Run" }
  /** `--help`/`-h`, or no arguments at all: the help of `command`, or the program's. */
  | { readonly _tag: "Help"; readonly command: CommandSpec | undefined }
  /** What is wrong, one line each, then how the command is used: exit 2. */
  | { readonly _tag: "Invalid"; readonly lines: ReadonlyArray<string> }

const trueValues = new Set(["true", "1", "y", "yes", "on"])
const falseValues = new Set(["false", "0", "n", "no", "off"])
const isBooleanWord = (text: string) => trueValues.has(text.toLowerCase()) || falseValues.has(text.toLowerCase())

const isOptionLike = (arg: string) => arg.startsWith("-") && arg.length > 1 && arg !== "--"
const isHelp = (arg: string) => ["--help", "-h"].includes(arg.toLowerCase())

/** `--name=value` → name and value; anything else is a name alone. */
const splitOption = (arg: string): { readonly name: string; readonly inline: string | undefined } => {
  const at = arg.indexOf("=")
  return arg.startsWith("--") && at > 2 ? { name: arg.slice(0, at), inline: arg.slice(at + 1) } : { name: arg, inline: undefined }
}

const findOption = (options: ReadonlyArray<OptionSpec>, name: string) =>
  options.find((option) => option.names.some((n) => n.toLowerCase() === name.toLowerCase()))

const findCommand = (spec: CommandLineSpec, name: string) => spec.commands.find((c) => c.name.toLowerCase() === name.toLowerCase())

const integer = Schema.decodeUnknownEither(Schema.compose(Schema.NumberFromString, Schema.Int))
const number = Schema.decodeUnknownEither(Schema.NumberFromString)

/** What kind of value an option takes, in words: "a whole number", "one of sh, bash, fish, zsh". */
export const describeValue = (option: OptionSpec): string =>
  option.choices
    ? `one of ${option.choices.join(", ")}`
    : option.value === "integer"
      ? "a whole number"
      : option.value === "float"
        ? "a number"
        : option.value === "text" || option.value === undefined
          ? "a value"
          : option.value

/** What is wrong with `value` for `option`, if @effect/cli would refuse it. */
const valueProblem = (option: OptionSpec, value: string): string | undefined => {
  const name = option.names[0]
  if (option.choices) {
    return option.choices.some((c) => c.toLowerCase() === value.toLowerCase())
      ? undefined
      : `${name} "${value}": expected ${describeValue(option)}`
  }
  if (option.value === "integer" && Either.isLeft(integer(value))) return `${name} "${value}": expected a whole number`
  if (option.value === "float" && Either.isLeft(number(value))) return `${name} "${value}": expected a number`
  return undefined
}

/** `usage: clapper run [OPTIONS] FILE`, as the help's first line says it. */
export const usageLine = (spec: CommandLineSpec, command: CommandSpec | undefined): string => {
  if (!command) return `${spec.name} COMMAND [OPTIONS] ...`
  const args = command.arguments.map((a) => (a.max > 1 ? `${a.name}...` : a.min === 0 ? `[${a.name}]` : a.name))
  return [spec.name, command.name, ...(command.options.length > 0 ? ["[OPTIONS]"] : []), ...args].join(" ")
}

const count = (n: number, noun: string) => (n === 1 ? `one ${noun}` : `${n === 0 ? "no" : n} ${noun}s`)

const describeArity = (command: CommandSpec): string => {
  const { arguments: args } = command
  if (args.length === 0) return `${command.name} takes no arguments`
  return `${command.name} takes ${args
    .map((a) =>
      a.max === Infinity ? `${a.min > 0 ? `at least ${count(a.min, a.name)}` : `any number of ${a.name}`}` : count(a.max, a.name)
    )
    .join(" and ")}`
}

const argumentMeaning = (description: string) => description.replace(/\.$/, "").replace(/^./, (c) => c.toLowerCase())

/** The option's names and the one it is closest to, for "did you mean". */
const suggestOption = (name: string, options: ReadonlyArray<OptionSpec>) => {
  const names = options.flatMap((o) => o.names.filter((n) => n.startsWith("--")))
  const suggestion = didYouMean(name.toLowerCase(), names)
  return suggestion === undefined ? undefined : findOption(options, suggestion)
}

const unknownOptionLine = (where: string, arg: string, suggestion: OptionSpec | undefined, command: CommandSpec | undefined) => {
  const known = command?.options.map((o) => o.names[0]).join(", ") ?? ""
  const hint = suggestion
    ? ` (did you mean "${suggestion.names[0]}"?)`
    : command && command.options.length === 0
      ? ` (${command.name} takes no options)`
      : command
        ? `; the options of ${command.name} are ${known}`
        : ""
  return `${where}: unknown option "${arg}"${hint}`
}

/** The arguments after the program's name (`process.argv.slice(2)`), checked against `spec`. */
export const checkArgv = (spec: CommandLineSpec, args: ReadonlyArray<string>): ArgvOutcome => {
  if (args.length === 0) return { _tag: "Help", command: undefined }
  const forcedAt = args.indexOf("--")
  const wantsHelp = (forcedAt < 0 ? args : args.slice(0, forcedAt)).some(isHelp)

  // Before the command: only the built-ins (--version, --completions SHELL, --help, …).
  const problems: Array<string> = []
  const misplaced: Array<string> = []
  let i = 0
  let commandName: string | undefined
  while (i < args.length) {
    const arg = args[i] as string
    if (arg === "--") break
    if (!isOptionLike(arg)) {
      commandName = arg
      break
    }
    const { name, inline } = splitOption(arg)
    const option = findOption(spec.builtIns, name)
    if (!option) {
      misplaced.push(arg)
      i++
      continue
    }
    if (option.value === undefined) {
      i += inline === undefined && isBooleanWord(args[i + 1] ?? "") ? 2 : 1
      continue
    }
    const value = inline ?? args[i + 1]
    if (value === undefined) problems.push(`${spec.name}: ${option.names[0]} needs a value (${describeValue(option)})`)
    else {
      const problem = valueProblem(option, value)
      if (problem) problems.push(`${spec.name}: ${problem}`)
    }
    i += inline === undefined ? 2 : 1
  }

  if (commandName === undefined) {
    if (wantsHelp) return { _tag: "Help", command: undefined }
    problems.push(
      ...misplaced.map((arg) => unknownOptionLine(spec.name, arg, suggestOption(splitOption(arg).name, spec.builtIns), undefined))
    )
    return problems.length > 0
      ? { _tag: "Invalid", lines: [...problems, `usage: ${usageLine(spec, undefined)} (see ${spec.name} --help)`] }
      : { _tag: "Run" }
  }

  const command = findCommand(spec, commandName)
  if (!command) {
    const suggestion = didYouMean(
      commandName.toLowerCase(),
      spec.commands.map((c) => c.name)
    )
    return {
      _tag: "Invalid",
      lines: [
        `${spec.name}: unknown command "${commandName}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
        `the commands are ${spec.commands.map((c) => c.name).join(", ")} (${spec.name} --help describes them)`
      ]
    }
  }
  if (wantsHelp) return { _tag: "Help", command }

  for (const arg of misplaced) {
    const { name } = splitOption(arg)
    if (findOption(command.options, name)) {
      problems.push(
        `${spec.name}: ${name} is an option of ${command.name}: put it after the command (${spec.name} ${command.name} ${arg} ...)`
      )
    } else {
      problems.push(unknownOptionLine(spec.name, arg, suggestOption(name, [...command.options, ...spec.builtIns]), undefined))
    }
  }

  // After the command: its own options, the built-ins, its arguments.
  const where = `${spec.name} ${command.name}`
  const known = [...command.options, ...spec.builtIns]
  const positionals: Array<string> = []
  const given = new Map<OptionSpec, Array<string>>()
  let unknown = misplaced.length > 0
  let forced = false
  for (let j = i + 1; j < args.length; ) {
    const arg = args[j] as string
    if (forced || !isOptionLike(arg)) {
      if (!forced && arg === "--") forced = true
      else positionals.push(arg)
      j++
      continue
    }
    const { name, inline } = splitOption(arg)
    const option = findOption(known, name)
    if (!option) {
      unknown = true
      const suggestion = suggestOption(name, known)
      problems.push(unknownOptionLine(where, arg, suggestion, command))
      // `--concurency 4`: the 4 is the misspelled option's value, not an argument.
      const next = args[j + 1]
      j += suggestion?.value !== undefined && inline === undefined && next !== undefined && !isOptionLike(next) ? 2 : 1
      continue
    }
    given.set(option, [...(given.get(option) ?? []), arg])
    if (option.value === undefined) {
      if (inline !== undefined && !isBooleanWord(inline)) {
        problems.push(`${where}: ${option.names[0]} takes no value (got "${arg}"): write ${option.names[0]} alone`)
      }
      j += inline === undefined && isBooleanWord(args[j + 1] ?? "") ? 2 : 1
      continue
    }
    const value = inline ?? args[j + 1]
    if (option.repeatable && inline !== undefined) {
      // @effect/cli reads `--name=value` only for options given once: it would take this one for an argument.
      problems.push(`${where}: write ${option.names[0]} ${inline} with a space, not "=" (${option.names[0]} is repeatable)`)
    } else if (value === undefined) {
      problems.push(`${where}: ${option.names[0]} needs a value (${describeValue(option)})`)
    } else {
      const problem = valueProblem(option, value)
      if (problem) problems.push(`${where}: ${problem}`)
    }
    j += inline === undefined ? 2 : 1
  }

  for (const [option, uses] of given) {
    if (!option.repeatable && uses.length > 1)
      problems.push(`${where}: ${option.names[0]} is given ${uses.length} times (${uses.join(", ")}): give it once`)
  }

  // An unknown option may have been meant to take the next argument: counting them would only guess.
  if (!unknown) {
    const min = command.arguments.reduce((n, a) => n + a.min, 0)
    const max = command.arguments.reduce((n, a) => n + a.max, 0)
    if (positionals.length < min) {
      let seen = positionals.length
      const missing = command.arguments.find((a) => {
        seen -= a.min
        return seen < 0
      })
      if (missing)
        problems.push(`${where}: missing ${missing.name}${missing.description ? ` (${argumentMeaning(missing.description)})` : ""}`)
    } else if (positionals.length > max) {
      const extra = positionals.slice(max)
      problems.push(
        `${where}: unexpected argument${extra.length === 1 ? "" : "s"} ${extra.map((a) => `"${a}"`).join(", ")} (${describeArity(command)})`
      )
    }
  }

  if (problems.length === 0) return { _tag: "Run" }
  return { _tag: "Invalid", lines: [...problems, `usage: ${usageLine(spec, command)} (see ${spec.name} ${command.name} --help)`] }
}
