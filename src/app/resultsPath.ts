/**
 * Where a results file may be written: not in a folder the pipeline's outputs go to (a file
 * there could be taken for an output by whoever collects the renders, or be replaced by one when
 * a template changes), and never over what the pipeline reads or Clapper keeps: an input, a data
 * file, the pipeline file, its lock file, the state folder (the same rules as an output's, from
 * `outputGuard.ts`). Depends only on the pipeline and the state's layout, so `validate` can use
 * it too.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import type { Job } from "../pipeline/job.ts"
import type { LoadedPipeline } from "../pipeline/load.ts"
import { makeOutputGuard, type GuardedFile } from "../pipeline/outputGuard.ts"
import { isInside, realLocation } from "../pipeline/projectRoot.ts"
import { lockFilePath } from "../state/lockFile.ts"
import { stateDir } from "../state/stateDir.ts"

/** The files a results file may never replace: the pipeline's, with how to name each. */
const guardedFiles = (pipeline: LoadedPipeline, jobs: ReadonlyArray<Job>, path: Path.Path, noun: string): ReadonlyArray<GuardedFile> => {
  const why = `${noun} may never replace what the pipeline reads or Clapper keeps; choose another path`
  const dataFiles = Object.entries(pipeline.spec.sets).flatMap(
    ([name, set]): Array<GuardedFile> =>
      "rows" in set ? [{ path: path.resolve(pipeline.dir, set.rows), what: `the data file of set "${name}"`, why }] : []
  )
  const inputs = jobs.flatMap(
    (job): Array<GuardedFile> => [
      { path: job.image.path, what: `the input image ${job.image.relative}`, why },
      ...(job.audio ? [{ path: job.audio.path, what: `the input audio ${job.audio.relative}`, why }] : [])
    ]
  )
  return [
    { path: pipeline.path, what: "the pipeline file", why },
    { path: lockFilePath(pipeline.path), what: "the pipeline's lock file", why },
    ...dataFiles,
    ...inputs
  ]
}

/** How a folder is named in a message: relative to the project root, with a trailing `/`. */
const shownFolder = (pipeline: LoadedPipeline, folder: string, path: Path.Path) => {
  const relative = path.relative(pipeline.projectRoot, folder).split(path.sep).join("/")
  return relative === "" ? "the project root" : relative.startsWith("..") ? `${folder}/` : `${relative}/`
}

/** What is being written, for the messages: the results table, or the HTML report. */
export interface HandedOnFile {
  readonly noun: string
  readonly example: string
}

const resultsFile: HandedOnFile = { noun: "a results file", example: "results.csv" }

/**
 * Why the results (or the report: `what`) may not be written at `target` (absolute), or
 * undefined when they may. The reason reads after the path: `"renders/results.csv" is inside renders/, …`.
 */
export const resultsPathProblem = (
  pipeline: LoadedPipeline,
  jobs: ReadonlyArray<Job>,
  target: string,
  what: HandedOnFile = resultsFile
): Effect.Effect<string | undefined, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const entry = path.join(yield* realLocation(path.dirname(target)), path.basename(target))
    const folders = new Set<string>()
    for (const folder of new Set(jobs.map((job) => path.dirname(job.output)))) folders.add(yield* realLocation(folder))
    for (const folder of folders) {
      if (entry === folder || isInside(folder, entry, path)) {
        return `is inside ${shownFolder(pipeline, folder, path)}, a folder the pipeline's outputs go to: ${what.noun} there could be taken for an output, or replaced by one. Write it outside the outputs' folders, e.g. beside the pipeline file`
      }
    }
    const guard = yield* makeOutputGuard({
      files: guardedFiles(pipeline, jobs, path, what.noun),
      stateDir: stateDir(pipeline.dir, pipeline.spec.name, path)
    })
    const problem = yield* guard.problem(target)
    // The guard speaks of outputs; an existing folder is the one case worded for templates.
    return problem?.startsWith("is an existing folder")
      ? `is an existing folder: name ${what.noun.replace(/^an? /, "the ")} itself, like ${what.example}`
      : problem
  })
