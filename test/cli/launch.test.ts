/**
 * How the CLI starts: bundled once per version of the sources, reused until a source changes,
 * and run from the TypeScript sources when asked (or when no bundle can be had).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { bundledEntry, installedPackages } from "../../bin/launch.js"
import { runCli } from "../support/runCli.ts"

const made: Array<string> = []
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const sourceTree = () => {
  const root = mkdtempSync(join(tmpdir(), "clapper-launch-"))
  made.push(root)
  mkdirSync(join(root, "src"))
  writeFileSync(join(root, "src", "greeting.ts"), `export const greeting: string = "hello"\n`)
  writeFileSync(join(root, "src", "main.ts"), `import { greeting } from "./greeting.ts"\nexport const said = greeting\n`)
  return root
}

const bundle = bundledEntry
const load = async (file: string) => ((await import(`${pathToFileURL(file).href}?t=${Date.now()}`)) as { said: string }).said

describe("CLI start-up", () => {
  it("bundles the sources once, reuses the bundle, and builds a new one (dropping the old) when a source's bytes change", async () => {
    const root = sourceTree()
    const options = { root, entry: join(root, "src", "main.ts"), cacheDir: join(root, "cache") }
    const first = await bundle(options)
    expect(await load(first)).toBe("hello")
    expect(await bundle(options)).toBe(first)

    // Same size, same mtime: only the bytes differ (npm gives a package's files one mtime).
    const before = statSync(join(root, "src", "greeting.ts"))
    writeFileSync(join(root, "src", "greeting.ts"), `export const greeting: string = "jello"\n`)
    utimesSync(join(root, "src", "greeting.ts"), before.atime, before.mtime)
    expect(statSync(join(root, "src", "greeting.ts")).size).toBe(before.size)
    const second = await bundle(options)
    expect(second).not.toBe(first)
    expect(await load(second)).toBe("jello")
    expect(existsSync(first)).toBe(false)
    expect(readdirSync(join(root, "cache"))).toEqual([second.split("/").at(-1)])
  })

  it("a bundle also follows the installed packages: npm's record in the nearest node_modules up the tree", () => {
    const root = sourceTree()
    const nested = join(root, "node_modules", "clapper")
    mkdirSync(nested, { recursive: true })
    expect(installedPackages(nested)).toBeUndefined()
    writeFileSync(join(root, "node_modules", ".package-lock.json"), "{}\n")
    expect(installedPackages(nested)).toBe(join(root, "node_modules", ".package-lock.json"))
  })

  it("the real binary answers the same from its bundle and from its sources", async () => {
    const bundled = await runCli(["--version"])
    const fromSource = await runCli(["--version"], { env: { CLAPPER_FROM_SOURCE: "1" } })
    expect(bundled.code).toBe(0)
    expect(fromSource).toEqual(bundled)
  })
})
