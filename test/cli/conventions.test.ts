/**
 * What a new user meets first, through the real binary where they meet it: a mistyped option or
 * command named with "did you mean", help without noise, shell completions, every problem of a
 * pipeline in one run. And the argv pre-check checked against @effect/cli itself: it knows the
 * same options, and never refuses a command line @effect/cli would run.
 */
import { Command, CommandDescriptor } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import * as fc from "fast-check"
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { checkArgv } from "../../src/cli/argvCheck.ts"
import type { CommandSpec, OptionSpec } from "../../src/cli/commandLine.ts"
import { helpStyleFor } from "../../src/cli/help.ts"
import { clapper, cliConfig, commandLine } from "../../src/cli/main.ts"
import { runCli } from "../support/runCli.ts"
import { repoRoot, tempProject } from "../support/tempProject.ts"

const ansi = /\u001b\[/

describe("mistakes on the command line (the real binary)", () => {
  it("an unknown option is named as typed, with the option it is closest to, and its value is not blamed", async () => {
    const result = await runCli(["run", "--concurency", "4", "pipelines/quickstart.yaml"])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe("")
    expect(result.stderr.trim().split("\n")).toEqual([
      `clapper run: unknown option "--concurency" (did you mean "--concurrency"?)`,
      "usage: clapper run [OPTIONS] FILE (see clapper run --help)"
    ])
  })

  it("a misspelled flag before the file blames the flag, not the file", async () => {
    const result = await runCli(["run", "--simm", "pipelines/quickstart.yaml"])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^clapper run: unknown option "--simm" \(did you mean "--sim"\?\)\n/)
    expect(result.stderr).not.toMatch(/quickstart/)
  })

  it("a misspelled command gets did you mean, and the list of commands", async () => {
    const result = await runCli(["valdate", "pipelines/quickstart.yaml"])
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split("\n")).toEqual([
      `clapper: unknown command "valdate" (did you mean "validate"?)`,
      "the commands are validate, plan, run, worker, status, results, report, log, lock, unlock, schema, sim (clapper --help describes them)"
    ])
  })

  it("a missing pipeline file suggests the file of a close name in its folder", async () => {
    const result = await runCli(["validate", "pipelines/quickstar.yaml"])
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toBe(`pipelines/quickstar.yaml:1:1: no such pipeline file (did you mean "pipelines/quickstart.yaml"?)`)
  })

  it("four mistakes in one file (unknown key, missing data file, unknown filter, unknown variable): all four in one run, in file order", async () => {
    const p = tempProject()
    p.write("data/prospects.csv", readFileSync(join(repoRoot, "examples", "data", "prospects.csv")))
    p.write(
      "campaign.yaml",
      [
        "version: 1",
        "name: campaign",
        "outptu: renders/{{set}}.mp4",
        "sets:",
        "  hello:",
        "    pairs:",
        '      - { image: assets/presenters/alice.png, audio: assets/voice/hello.wav, output: "renders/{{ set | slgu }}.mp4" }',
        "  outreach:",
        "    rows: data/prospect.csv",
        "    image: assets/presenters/{{row.presenter}}",
        "    audio: assets/outreach/{{row.audio}}",
        '    output: "renders/{{row.id}}-{{ imge.stem }}.mp4"',
        ""
      ].join("\n")
    )
    const before = p.snapshot()
    const result = await runCli(["validate", "campaign.yaml"], { cwd: p.root })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe("")
    const lines = result.stderr.trim().split("\n")
    expect(lines).toEqual([
      `campaign.yaml:3:1: unknown key "outptu" (did you mean "output"?)`,
      expect.stringMatching(/^campaign\.yaml:7:\d+: unknown filter "slgu" \(did you mean "slug"\?/),
      `campaign.yaml:9:11: data file "data/prospect.csv" not found (relative to campaign.yaml's folder; did you mean "data/prospects.csv"?)`,
      expect.stringMatching(/^campaign\.yaml:12:\d+: unknown variable "imge\.stem" \(did you mean "image\.stem"\?/)
    ])
    expect(p.snapshot()).toEqual(before)
    // plan reads the pipeline the same way: the same four, at once.
    const plan = await runCli(["plan", "campaign.yaml"], { cwd: p.root })
    expect(plan.code).toBe(2)
    expect(plan.stderr.trim().split("\n")).toEqual(lines)
  })
})

describe("help (the real binary)", () => {
  // Piped, as here: no colour even without NO_COLOR.
  const help = (args: ReadonlyArray<string>) => runCli(args, { env: { NO_COLOR: undefined } })
  const builtIns = /--completions|--wizard|--log-level|--version|--help/

  it("clapper --help: the commands, the built-in options once, no ANSI, no filler, 80 columns", async () => {
    const result = await help(["--help"])
    expect(result).toMatchObject({ code: 0, stderr: "" })
    const text = result.stdout
    expect(text).not.toMatch(ansi)
    expect(text).toMatch(/^Usage: clapper COMMAND/m)
    for (const command of ["validate FILE...", "plan FILE", "run FILE", "status FILE", "unlock FILE", "schema", "sim"]) {
      expect(text).toMatch(new RegExp(`^  ${command.replace(/\./g, "\\.")}  `, "m"))
    }
    expect(text.match(/--completions/g)?.length).toBeGreaterThanOrEqual(1)
    expect(text).toMatch(/^  -h, --help +Show/m)
    expect(text).not.toMatch(/--wizard|--log-level|A true or false value|This setting is optional/)
    for (const line of text.split("\n")) expect(line.length).toBeLessThanOrEqual(80)
    // No arguments at all: the same help.
    expect((await help([])).stdout).toBe(text)
  })

  it("clapper run --help: the usage line names clapper, no built-ins, no types as filler, plain text", async () => {
    const result = await help(["run", "--help"])
    expect(result).toMatchObject({ code: 0, stderr: "" })
    const lines = result.stdout.trimEnd().split("\n")
    expect(lines[0]).toBe("Usage: clapper run [OPTIONS] FILE")
    expect(result.stdout).not.toMatch(ansi)
    expect(result.stdout).not.toMatch(builtIns)
    expect(result.stdout).not.toMatch(
      /A true or false value|An integer\.|A floating point number|A user-defined piece of text|This setting is optional|A file\./
    )
    expect(result.stdout).toMatch(/^  FILE +The pipeline file\.$/m)
    expect(result.stdout).toMatch(/^  --concurrency N +Jobs in flight/m)
    expect(result.stdout).toMatch(/^  --quota KIND=RATE +The provider's quota/m)
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80)
    // Help wins over a mistake on the same line.
    expect((await help(["run", "--concurency", "--help"])).stdout).toBe(result.stdout)
  })

  it("clapper sim --help shows each option's default", async () => {
    const result = await help(["sim", "--help"])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: clapper sim \[OPTIONS\]$/m)
    expect(result.stdout).toMatch(/--port N +Port of the API on 127\.0\.0\.1 \(0 picks a free\s+port\)\. Default: 8787\./)
    expect(result.stdout).toMatch(/--queued-ms N[\s\S]*?Default: 2000\./)
    // A default the description already gives is not repeated.
    expect(result.stdout).not.toMatch(/any non-empty\s+key\)\. Default/)
    expect(result.stdout).not.toMatch(builtIns)
    expect(result.stdout).not.toMatch(ansi)
  })

  it("colour only on a terminal without NO_COLOR", () => {
    expect(helpStyleFor({ isTTY: true, columns: 120 }, {})).toEqual({ color: true, width: 100 })
    expect(helpStyleFor({ isTTY: true, columns: 60 }, { NO_COLOR: "1" })).toEqual({ color: false, width: 60 })
    expect(helpStyleFor({ isTTY: true }, { TERM: "dumb" }).color).toBe(false)
    expect(helpStyleFor({ isTTY: false, columns: 200 }, {})).toEqual({ color: false, width: 80 })
  })
})

describe("shell completions (the real binary)", () => {
  it("--completions bash prints a script bash loads, which completes clapper's commands and options", async () => {
    const result = await runCli(["--completions", "bash"])
    expect(result).toMatchObject({ code: 0, stderr: "" })
    expect(result.stdout).toMatch(/^complete -F _clapper_bash_completions .* clapper$/m)
    const p = tempProject()
    const script = join(p.root, "clapper.bash")
    writeFileSync(script, result.stdout)
    const complete = (...words: ReadonlyArray<string>) =>
      execFileSync(
        "bash",
        [
          "-c",
          `source "$0"; COMP_WORDS=(${words.join(" ")}); COMP_CWORD=${words.length - 1}; _clapper_bash_completions clapper "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"; printf '%s\\n' "\${COMPREPLY[@]}"`,
          script
        ],
        { encoding: "utf8" }
      )
        .trim()
        .split("\n")
    expect(complete("clapper", "va")).toEqual(["validate"])
    expect(complete("clapper", "run", "--con")).toEqual(["--concurrency"])
  })

  it("zsh, fish and sh get their scripts too", async () => {
    for (const [shell, marker] of [
      ["zsh", /^#compdef clapper$/m],
      ["fish", /^complete -c clapper /m],
      ["sh", /^complete -F _clapper_bash_completions /m]
    ] as const) {
      const result = await runCli(["--completions", shell])
      expect(result.code, shell).toBe(0)
      expect(result.stdout, shell).toMatch(marker)
    }
    const wrong = await runCli(["--completions", "powershell"])
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toMatch(/^clapper: --completions "powershell": expected one of sh, bash, fish, zsh\n/)
  })
})

describe("the argv pre-check", () => {
  const check = (...args: ReadonlyArray<string>) => checkArgv(commandLine, args)
  const lines = (...args: ReadonlyArray<string>) => {
    const outcome = check(...args)
    return outcome._tag === "Invalid" ? outcome.lines : outcome._tag
  }

  it("names each mistake as written, all of them at once", () => {
    expect(lines("--json", "plan", "f.yaml")[0]).toBe(
      "clapper: --json is an option of plan: put it after the command (clapper plan --json ...)"
    )
    expect(lines("sim", "--port")[0]).toBe("clapper sim: --port needs a value (a whole number)")
    expect(lines("sim", "--port", "x", "--fail-rate=y")).toEqual([
      `clapper sim: --port "x": expected a whole number`,
      `clapper sim: --fail-rate "y": expected a number`,
      "usage: clapper sim [OPTIONS] (see clapper sim --help)"
    ])
    expect(lines("run")[0]).toBe("clapper run: missing FILE (the pipeline file)")
    expect(lines("validate")[0]).toBe("clapper validate: missing FILE (pipeline files to check)")
    expect(lines("run", "a.yaml", "b.yaml")[0]).toBe(`clapper run: unexpected argument "b.yaml" (run takes one FILE)`)
    expect(lines("schema", "x")[0]).toBe(`clapper schema: unexpected argument "x" (schema takes no arguments)`)
    expect(lines("status", "--json", "--json", "f.yaml")[0]).toBe("clapper status: --json is given 2 times (--json, --json): give it once")
    expect(lines("validate", "a.yaml", "--bogus")[0]).toBe(`clapper validate: unknown option "--bogus" (validate takes no options)`)
    expect(lines("unlock", "--xyz", "f.yaml")[0]).toBe(`clapper unlock: unknown option "--xyz"; the options of unlock are --force, --state`)
    expect(lines("run", "--sim=maybe", "f.yaml")[0]).toBe(`clapper run: --sim takes no value (got "--sim=maybe"): write --sim alone`)
    expect(lines("--verison")[0]).toBe(`clapper: unknown option "--verison" (did you mean "--version"?)`)
    // @effect/cli would take `--quota=…` for the FILE, and blame the real file.
    expect(lines("plan", "--quota=generation=60/min", "f.yaml")[0]).toBe(
      `clapper plan: write --quota generation=60/min with a space, not "=" (--quota is repeatable)`
    )
  })

  it("lets through what @effect/cli runs as it is, and answers --help itself", () => {
    for (const args of [
      ["--version"],
      ["--completions", "zsh"],
      ["--log-level", "debug", "validate", "a.yaml", "b.yaml"],
      ["validate", "--", "--odd-name.yaml"],
      ["run", "f.yaml", "--sim", "--concurrency=3", "--quota", "generation=1/min", "--quota", "all=9/s"],
      ["run", "--SIM", "f.yaml"],
      ["plan", "--json", "yes", "f.yaml"],
      ["sim", "--port", "0", "--api-key", "-secret-"]
    ]) {
      expect(check(...args), args.join(" ")).toEqual({ _tag: "Run" })
    }
    expect(check()).toEqual({ _tag: "Help", command: undefined })
    expect(check("-h")).toEqual({ _tag: "Help", command: undefined })
    expect(check("run", "--bogus", "-h")).toMatchObject({ _tag: "Help", command: { name: "run" } })
    expect(check("valdate", "--help")._tag).toBe("Invalid")
  })

  /** The options @effect/cli's bash completions offer after `clapper COMMAND`: its own view of the definitions. */
  const completedOptions = async (): Promise<ReadonlyMap<string, ReadonlySet<string>>> => {
    const script = (await Effect.runPromise(Command.getBashCompletions(clapper, "clapper"))).join("\n")
    const byCommand = new Map<string, ReadonlySet<string>>()
    for (const match of script.matchAll(/^ {8}clapper(?:__(\w+))?\)\n\s+opts="([^"]*)"/gm)) {
      byCommand.set(match[1] ?? "", new Set((match[2] ?? "").split(" ").filter((word) => word.startsWith("-"))))
    }
    return byCommand
  }

  it("knows exactly the options @effect/cli knows, command by command (read from the same definitions)", async () => {
    const completed = await completedOptions()
    const builtIns = commandLine.builtIns.flatMap((o) => o.names)
    expect(new Set(completed.keys())).toEqual(new Set(["", ...commandLine.commands.map((c) => c.name)]))
    expect(completed.get("")).toEqual(new Set(builtIns))
    for (const command of commandLine.commands) {
      expect(completed.get(command.name), command.name).toEqual(new Set([...command.options.flatMap((o) => o.names), ...builtIns]))
    }
  })

  /** A valid value for `option`, as the user would type it. */
  const valueOf = (option: OptionSpec): fc.Arbitrary<string> =>
    option.choices
      ? fc.constantFrom(...option.choices)
      : option.value === "integer"
        ? fc.integer({ min: 0, max: 99_999 }).map(String)
        : option.value === "float"
          ? fc.integer({ min: 0, max: 999 }).map((n) => `${n}.25`)
          : option.value === "KIND=RATE"
            ? fc.constantFrom("generation=60/min", "all=5/s", "captions=1/30s")
            : fc.constantFrom("x", "http://127.0.0.1:9", "value with spaces")

  /** One way to write the option: `--name value`, `--name=value`, or a flag alone (or with true/false). */
  const written = (option: OptionSpec): fc.Arbitrary<ReadonlyArray<string>> => {
    const name = option.names[0] as string
    if (option.value === undefined) return fc.constantFrom([name], [name, "true"], [`${name}=false`])
    // A repeatable option takes its value after a space only (see the pre-check's own test).
    return fc
      .tuple(valueOf(option), fc.boolean())
      .map(([value, inline]) => (inline && !option.repeatable ? [`${name}=${value}`] : [name, value]))
  }

  const validLine = (command: CommandSpec): fc.Arbitrary<ReadonlyArray<string>> =>
    fc
      .tuple(
        fc
          .subarray([...command.options])
          .chain((options) =>
            fc.tuple(
              ...options.map((o) =>
                o.repeatable ? fc.array(written(o), { minLength: 1, maxLength: 2 }).map((ws) => ws.flat()) : written(o)
              )
            )
          ),
        fc.array(fc.constantFrom("pipelines/quickstart.yaml", "no-such.yaml"), {
          minLength: command.arguments.reduce((n, a) => n + a.min, 0),
          maxLength: Math.min(
            3,
            command.arguments.reduce((n, a) => n + a.max, 0)
          )
        }),
        fc.nat()
      )
      .map(([options, files, at]) => {
        const flags = (options as ReadonlyArray<ReadonlyArray<string>>).flat()
        // The files go before, between or after the options (never splitting an option from its value).
        const cut = options.length === 0 ? 0 : at % (options.length + 1)
        const before = (options as ReadonlyArray<ReadonlyArray<string>>).slice(0, cut).flat()
        return [command.name, ...before, ...files, ...flags.slice(before.length)]
      })

  /** Whether @effect/cli parses `args` into something it runs: a built-in, or a command with nothing left over. */
  const effectCliRuns = (args: ReadonlyArray<string>) =>
    Effect.runPromise(
      CommandDescriptor.parse(clapper.descriptor, ["clapper", ...args], cliConfig).pipe(
        Effect.map((directive) => directive._tag === "BuiltIn" || directive.leftover.length === 0),
        Effect.orElseSucceed(() => false),
        Effect.provide(NodeContext.layer)
      )
    )

  it("never refuses a command line @effect/cli runs", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...commandLine.commands).chain(validLine), async (args) => {
        expect(await effectCliRuns(args), args.join(" ")).toBe(true)
        expect(checkArgv(commandLine, args), args.join(" ")).toEqual({ _tag: "Run" })
      }),
      { numRuns: 300 }
    )
  })

  it("refuses a misspelled option wherever it is, suggesting the option it is closest to", () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom(...commandLine.commands.filter((c) => c.options.length > 0))
          .chain((command) => fc.tuple(validLine(command), fc.constantFrom(...command.options), fc.nat())),
        ([args, option, at]) => {
          const name = option.names[0] as string
          // One letter doubled: "--concurrency" → "--concurrrency".
          const letter = 2 + (at % (name.length - 2))
          const typo = name.slice(0, letter + 1) + name.slice(letter)
          const line = [...args, typo]
          const outcome = checkArgv(commandLine, line)
          expect(outcome._tag, line.join(" ")).toBe("Invalid")
          const lines = outcome._tag === "Invalid" ? outcome.lines : []
          expect(lines[0]).toMatch(new RegExp(`unknown option "${typo}" \\(did you mean "--`))
        }
      ),
      { numRuns: 200 }
    )
  })
})
