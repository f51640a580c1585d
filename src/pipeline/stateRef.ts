/** Which state a loaded pipeline's is: its name, its file, and its project (a shared store keys the campaign by the file's path in it). */
import type { StateRef } from "../state/StateStore.ts"
import type { LoadedPipeline } from "./load.ts"

export const stateRefOf = (pipeline: LoadedPipeline): StateRef => ({
  name: pipeline.spec.name,
  file: pipeline.path,
  projectRoot: pipeline.projectRoot,
  ...(pipeline.spec.state !== undefined ? { database: pipeline.spec.state } : {})
})
