import type { Path } from "@effect/platform"

/** A pipeline's state folder, `.clapper/<name>/` beside the pipeline file (git-ignored). */
export const stateDir = (pipelineDir: string, name: string, path: Path.Path) => path.join(pipelineDir, ".clapper", name)
