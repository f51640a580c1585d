// The package as a user gets it: `npm pack`, then the tarball installed into an empty project as
// a dependency and globally into a temporary prefix. Checks the tarball holds only what runs, the
// CLI starts (`--version`, `validate`), a plain .mjs imports the library, and a TypeScript
// consumer type-checks under default NodeNext settings. Run by .ci/run; needs the npm registry.
import { execFileSync } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const work = mkdtempSync(join(tmpdir(), "clapper-package-"))
const npm = process.platform === "win32" ? "npm.cmd" : "npm"
const run = (command, args, cwd, env = {}) =>
  execFileSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] })
const check = (ok, message) => {
  if (!ok) throw new Error(`package test: ${message}`)
  console.log(`ok - ${message}`)
}

try {
  // 1. The tarball: built by prepack, holding the compiled library, the CLI bundle and nothing of the repo's own.
  const packed = JSON.parse(run(npm, ["pack", "--json", "--pack-destination", work], root))[0]
  const tarball = join(work, packed.filename)
  const files = packed.files.map((f) => f.path)
  check(
    files.includes("dist/index.js") && files.includes("dist/index.d.ts") && files.includes("dist/clapper.mjs"),
    "the tarball has the compiled library and the CLI bundle"
  )
  const strays = files.filter((f) => /^(src|test|bench|examples|scripts|pipelines)\//.test(f))
  check(
    strays.length === 0,
    `the tarball holds no sources, tests or benchmarks (${files.length} files, ${Math.round(packed.size / 1024)} kB packed)`
  )

  // A project to validate: the quickstart pipeline with its assets.
  const project = join(work, "project")
  mkdirSync(join(project, "pipelines"), { recursive: true })
  cpSync(join(root, "pipelines", "quickstart.yaml"), join(project, "pipelines", "quickstart.yaml"))
  cpSync(join(root, "examples", "assets"), join(project, "examples", "assets"), { recursive: true })
  writeFileSync(join(project, "package.json"), "{}\n")
  const pipeline = join(project, "pipelines", "quickstart.yaml")

  // 2. Globally, into a temporary prefix.
  const prefix = join(work, "global")
  run(npm, ["install", "--global", "--prefix", prefix, "--no-audit", "--no-fund", tarball], work)
  const bin = join(prefix, "bin", "clapper")
  const version = run(bin, ["--version"], work).trim()
  check(version === packed.version, `clapper --version says ${version}`)
  const started = process.hrtime.bigint()
  run(bin, ["--version"], work)
  console.log(`   (start-up: ${Number((process.hrtime.bigint() - started) / 1_000_000n)} ms for --version)`)
  check(run(bin, ["validate", pipeline], work).includes("ok, 2 jobs"), "clapper validate on a pipeline (global install)")

  // 3. As a dependency of an empty project.
  const consumer = join(work, "consumer")
  mkdirSync(consumer)
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2))
  run(npm, ["install", "--no-audit", "--no-fund", tarball], consumer)
  // A TypeScript project for Node has Node's types; nothing else is added.
  run(npm, ["install", "--no-audit", "--no-fund", "--save-dev", "@types/node@20"], consumer)
  check(
    run(join(consumer, "node_modules", ".bin", "clapper"), ["validate", pipeline], consumer).includes("ok, 2 jobs"),
    "npx-style clapper validate (local dependency)"
  )
  writeFileSync(
    join(consumer, "plain.mjs"),
    `import { validatePipelinePromise } from "clapper"\nconst plan = await validatePipelinePromise(${JSON.stringify(pipeline)})\nconsole.log(plan.pipeline.name, plan.totals.jobs)\n`
  )
  check(
    run(process.execPath, ["plain.mjs"], consumer).trim() === "quickstart 2",
    "a plain .mjs imports the library and validates a pipeline"
  )
  writeFileSync(
    join(consumer, "typed.ts"),
    [
      `import { runPipeline, validatePipelinePromise, type Plan, type RunSummary } from "clapper"`,
      `import { Effect } from "effect"`,
      `const plan: Promise<Plan> = validatePipelinePromise("pipeline.yaml")`,
      `const run: Effect.Effect<RunSummary, unknown, unknown> = runPipeline("pipeline.yaml", { backend: { _tag: "Simulator" } })`,
      `export { plan, run }`,
      ``
    ].join("\n")
  )
  writeFileSync(
    join(consumer, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true },
        files: ["typed.ts"]
      },
      null,
      2
    )
  )
  run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", consumer], consumer)
  check(true, "a TypeScript consumer type-checks under default NodeNext settings")
  console.log("package test passed")
} finally {
  rmSync(work, { recursive: true, force: true })
}
