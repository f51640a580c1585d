import { Command } from "@effect/cli"
import { Console } from "effect"
import { pipelineJsonSchema } from "../pipeline/jsonSchema.ts"

export const schemaCommand = Command.make("schema", {}, () => Console.log(pipelineJsonSchema())).pipe(
  Command.withDescription("Print the JSON Schema of pipeline files (the same as schemas/pipeline.schema.json).")
)
