import { JSONSchema } from "effect"
import { Pipeline } from "./schema.ts"

/** The pipeline format as JSON Schema text, for editors (yaml-language-server) and CI. */
export const pipelineJsonSchema = (): string => JSON.stringify(JSONSchema.make(Pipeline), null, 2)
