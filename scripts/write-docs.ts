/**
 * Regenerates what is derived from the pipeline schema: schemas/pipeline.schema.json and the
 * README's field reference (between its `fields:start`/`fields:end` markers).
 * `npm run docs:write`; tests fail when either is stale.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { pipelineFieldReference } from "../src/pipeline/fieldReference.ts"
import { pipelineJsonSchema } from "../src/pipeline/jsonSchema.ts"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
writeFileSync(join(root, "schemas", "pipeline.schema.json"), `${pipelineJsonSchema()}\n`)
const readme = join(root, "README.md")
const text = readFileSync(readme, "utf8")
const updated = text.replace(
  /(<!-- fields:start -->\n)[\s\S]*?(\n<!-- fields:end -->)/,
  (_, start: string, end: string) => `${start}${pipelineFieldReference()}${end}`
)
writeFileSync(readme, updated)
