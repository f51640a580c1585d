// How the CLI starts. Installed from npm, it runs the bundle packed into dist/. In a clone the
// sources are TypeScript and there is no build step to remember: on the
// first start after any source or installed package changed, the CLI is bundled once with
// esbuild (already installed, tsx runs on it) into node_modules/.cache/clapper/, and later
// starts import that single file. Loading Effect's hundreds of modules through tsx's loader
// took over a second per start; the bundle starts in a quarter of that. If the bundle cannot
// be built or written, or CLAPPER_FROM_SOURCE=1 is set, the sources run through tsx as before.
import { createHash } from "node:crypto"
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"
import { pathToFileURL } from "node:url"

const sourceFile = /\.(ts|js|json)$/

/**
 * Changes whenever a file under `dirs` (its name or bytes), one of `files`, or the Node version
 * changes: a bundle is reused only for exactly the sources it was built from. Contents, not
 * mtimes: npm gives every file of a published package the same mtime, so an upgrade could keep
 * names and sizes. Reading ~1 MB of sources costs a few milliseconds.
 */
export const sourceKey = (root, dirs, files = []) => {
  const hash = createHash("sha256")
  const note = (full) => {
    hash.update(`${relative(root, full)}\0`)
    try {
      hash.update(readFileSync(full))
    } catch {
      hash.update("missing")
    }
    hash.update("\0")
  }
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (sourceFile.test(entry.name)) note(full)
    }
  }
  for (const dir of dirs) walk(dir)
  for (const file of files) note(file)
  hash.update(process.version)
  return hash.digest("hex").slice(0, 20)
}

/**
 * Where bundles are kept: the package's node_modules/.cache, else a folder of the system's temp
 * folder for this copy of the sources (two installed copies must not remove each other's).
 */
export const defaultCacheDir = (root) => {
  try {
    if (statSync(join(root, "node_modules")).isDirectory()) return join(root, "node_modules", ".cache", "clapper")
  } catch {
    // no node_modules beside the sources (installed as a dependency): use the temp folder
  }
  const copy = createHash("sha256").update(root).digest("hex").slice(0, 12)
  return join(tmpdir(), `clapper-cache-${process.getuid?.() ?? "user"}`, copy)
}

/** npm's record of what is installed, in the nearest node_modules up from `root`. */
export const installedPackages = (root) => {
  for (let dir = root; ; dir = dirname(dir)) {
    const file = join(dir, "node_modules", ".package-lock.json")
    try {
      statSync(file)
      return file
    } catch {
      if (dirname(dir) === dir) return undefined
    }
  }
}

/**
 * The bundle of `entry` for the current sources: reused when it exists, else built (to a private
 * temporary name, then renamed, so concurrent starts never import a half-written file) and older
 * bundles removed.
 */
export const bundledEntry = async ({ root, entry, cacheDir = defaultCacheDir(root), sources = [join(root, "src")], manifests = [] }) => {
  const key = sourceKey(root, sources, manifests)
  const out = join(cacheDir, `cli-${key}.mjs`)
  try {
    statSync(out)
    return out
  } catch {
    // not built yet
  }
  const { build } = await import("esbuild")
  mkdirSync(cacheDir, { recursive: true })
  const temp = join(cacheDir, `.cli-${key}-${process.pid}-${Date.now()}.tmp.mjs`)
  try {
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: temp,
      // Its binary is found next to its own files at run time.
      external: ["@ffmpeg-installer/*"],
      // Bundled CommonJS packages may call require().
      banner: { js: "import { createRequire as __clapperRequire } from 'node:module'; const require = __clapperRequire(import.meta.url);" },
      logLevel: "silent"
    })
    renameSync(temp, out)
  } finally {
    rmSync(temp, { force: true })
  }
  for (const name of readdirSync(cacheDir)) {
    if (name.startsWith("cli-") && name.endsWith(".mjs") && join(cacheDir, name) !== out) rmSync(join(cacheDir, name), { force: true })
  }
  return out
}

const exists = (file) => {
  try {
    statSync(file)
    return true
  } catch {
    return false
  }
}

/**
 * Runs the CLI. The published package has no sources, only the bundle built when it was packed
 * (dist/clapper.mjs). A clone runs its sources: the bundle of them when it can be had, else
 * through tsx.
 */
export const launch = async (root) => {
  const entry = join(root, "src", "cli", "bin.ts")
  const packed = join(root, "dist", "clapper.mjs")
  if (!exists(entry) && exists(packed)) return import(pathToFileURL(packed).href)
  if (process.env.CLAPPER_FROM_SOURCE !== "1") {
    let bundle
    try {
      const installed = installedPackages(root)
      bundle = await bundledEntry({ root, entry, manifests: [join(root, "package.json"), ...(installed ? [installed] : [])] })
    } catch {
      bundle = undefined
    }
    if (bundle !== undefined) return import(pathToFileURL(bundle).href)
  }
  const { register } = await import("tsx/esm/api")
  register()
  return import(pathToFileURL(entry).href)
}
