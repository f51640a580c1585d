// Builds the published package into dist/: the library compiled by tsc (JavaScript and .d.ts,
// imports rewritten from .ts to .js), and the CLI bundled by esbuild into one file
// (dist/clapper.mjs), which starts in a fraction of the time Node takes to load Effect's hundreds
// of modules one by one. A clone needs none of this: bin/launch.js runs the sources.
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const dist = join(root, "dist")
rmSync(dist, { recursive: true, force: true })

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" })

// tsc rewrites the .ts of relative imports in JavaScript, not in declarations.
const declarations = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? declarations(join(dir, entry.name)) : entry.name.endsWith(".d.ts") ? [join(dir, entry.name)] : []
  )
for (const file of declarations(dist)) {
  const text = readFileSync(file, "utf8")
  const rewritten = text.replace(/((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g, "$1$2.js$3")
  if (rewritten !== text) writeFileSync(file, rewritten)
}

await build({
  entryPoints: [join(root, "src", "cli", "bin.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: join(dist, "clapper.mjs"),
  // Its binary is found next to its own files at run time.
  external: ["@ffmpeg-installer/*"],
  // Bundled CommonJS packages may call require().
  banner: { js: "import { createRequire as __clapperRequire } from 'node:module'; const require = __clapperRequire(import.meta.url);" },
  logLevel: "warning"
})
