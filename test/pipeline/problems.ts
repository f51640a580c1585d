/** Validates a pipeline in a temp project and returns its diagnostics as the CLI prints them. */
import { expect } from "vitest"
import { formatDiagnostic, PipelineInvalid, validatePipelinePromise } from "../../src/index.ts"
import type { TempProject } from "../support/tempProject.ts"

export const header = "version: 1\nname: test\n"
export const alice = "assets/presenters/alice.png"
export const hello = "assets/voice/hello.wav"

/** The diagnostics of validating `file` (default `pipeline.yaml`, written from `yaml`), paths shown relative to the project. */
export const problems = async (
  project: TempProject,
  yaml: string | Uint8Array | undefined,
  file = "pipeline.yaml"
): Promise<ReadonlyArray<string>> => {
  const target = yaml === undefined ? `${project.root}/${file}` : project.write(file, yaml)
  const before = project.snapshot()
  const error = await validatePipelinePromise(target).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(project.snapshot()).toEqual(before) // nothing written, whatever the outcome
  expect(error).toBeInstanceOf(PipelineInvalid)
  return (error as PipelineInvalid).diagnostics.map((d) =>
    formatDiagnostic({ ...d, file: d.file.replace(project.root + "/", "") })
      .split(project.root + "/")
      .join("")
  )
}
