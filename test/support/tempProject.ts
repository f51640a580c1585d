/** A throwaway project folder (marked by package.json) with example assets to point pipelines at. */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach } from "vitest"

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
export const assetsDir = join(repoRoot, "examples", "assets")

const made: Array<string> = []
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

export interface TempProject {
  readonly root: string
  /** Writes a file (creating folders) and returns its absolute path. */
  readonly write: (path: string, content: string | Uint8Array) => string
  /** Every file under the root with its size and mtime: to prove a command wrote nothing. */
  readonly snapshot: () => ReadonlyArray<string>
}

/** A project with `assets/` holding copies of the example assets. */
export const tempProject = (): TempProject => {
  const root = mkdtempSync(join(tmpdir(), "clapper-test-"))
  made.push(root)
  writeFileSync(join(root, "package.json"), "{}\n")
  cpSync(assetsDir, join(root, "assets"), { recursive: true })
  const write = (path: string, content: string | Uint8Array) => {
    const full = join(root, path)
    mkdirSync(dirname(full), { recursive: true })
    writeFileSync(full, content)
    return full
  }
  const snapshot = () => {
    const out: Array<string> = []
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort()) {
        const full = join(dir, name)
        const info = statSync(full)
        if (info.isDirectory()) walk(full)
        else out.push(`${relative(root, full)} ${info.size} ${info.mtimeMs}`)
      }
    }
    walk(root)
    return out
  }
  return { root, write, snapshot }
}
