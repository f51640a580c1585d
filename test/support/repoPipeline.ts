/** A copy of one of the repository's pipelines (with the example assets) in a fresh project. */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach } from "vitest"
import { repoRoot } from "./tempProject.ts"

const made: Array<string> = []
afterEach(() => made.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

export const repoPipelineProject = (...names: ReadonlyArray<string>): string => {
  const root = mkdtempSync(join(tmpdir(), "clapper-repo-"))
  made.push(root)
  writeFileSync(join(root, "package.json"), "{}\n")
  mkdirSync(join(root, "pipelines"))
  for (const name of names) cpSync(join(repoRoot, "pipelines", name), join(root, "pipelines", name))
  cpSync(join(repoRoot, "examples", "assets"), join(root, "examples", "assets"), { recursive: true })
  cpSync(join(repoRoot, "examples", "data"), join(root, "examples", "data"), { recursive: true })
  return root
}
