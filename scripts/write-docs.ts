/**
 * Regenerates what is derived from the schemas: schemas/pipeline.schema.json and the README's
 * field reference (from the pipeline schema) and NDJSON event table (from the `RunEvent` schema),
 * between their `…:start`/`…:end` markers. `npm run docs:write`; tests fail when either is stale.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { ndjsonDocs } from "../src/cli/progress/ndjson.ts"
import { pipelineFieldReference } from "../src/pipeline/fieldReference.ts"
import { pipelineJsonSchema } from "../src/pipeline/jsonSchema.ts"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
writeFileSync(join(root, "schemas", "pipeline.schema.json"), `${pipelineJsonSchema()}\n`)
const readme = join(root, "README.md")
const text = readFileSync(readme, "utf8")
const between = (text: string, marker: string, content: string) =>
  text.replace(
    new RegExp(`(<!-- ${marker}:start -->\\n)[\\s\\S]*?(\\n<!-- ${marker}:end -->)`),
    (_, start: string, end: string) => `${start}${content}${end}`
  )
const updated = between(between(text, "fields", pipelineFieldReference()), "events", ndjsonDocs.trimEnd())
writeFileSync(readme, updated)
