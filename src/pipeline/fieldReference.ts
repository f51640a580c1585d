/**
 * The README's field reference, generated from the schema's descriptions so the documentation
 * cannot drift from what `clapper validate` accepts (a test compares the two).
 */
import { JSONSchema } from "effect"
import { Pipeline } from "./schema.ts"

type Node = { readonly [key: string]: unknown }

const isNode = (value: unknown): value is Node => typeof value === "object" && value !== null && !Array.isArray(value)

const typeOf = (node: Node, defs: Node): string => {
  const ref = node["$ref"]
  if (typeof ref === "string") return ref.endsWith("/Int") ? "integer" : "object"
  if (Array.isArray(node["enum"])) return node["enum"].map((v) => `\`${String(v)}\``).join(" \\| ")
  if (typeof node["pattern"] === "string" && String(node["pattern"]).includes("(ms|s|m|h)")) return "duration"
  if (typeof node["pattern"] === "string" && String(node["pattern"]).includes("|minute|")) return "rate"
  const anyOf = node["anyOf"]
  if (Array.isArray(anyOf))
    return anyOf
      .filter(isNode)
      .map((n) => typeOf(n, defs))
      .join(" or ")
  const type = node["type"]
  if (type === "array" && isNode(node["items"])) return `list of ${typeOf(node["items"], defs)}`
  if (type === "object") return "mapping"
  return typeof type === "string" ? type : "any"
}

const row = (path: string, node: Node, defs: Node, required: boolean) =>
  `| \`${path}\` | ${typeOf(node, defs)}${required ? " (required)" : ""} | ${String(node["description"] ?? "").replace(/\|/g, "\\|")} |`

/** Rows for a mapping's fields, depth first, with nested mappings and lists flattened into paths. */
const fields = (node: Node, prefix: string, defs: Node): Array<string> => {
  const properties = node["properties"]
  if (!isNode(properties)) return []
  const required = new Set(Array.isArray(node["required"]) ? node["required"] : [])
  return Object.entries(properties).flatMap(([key, value]) => {
    if (!isNode(value)) return []
    const path = prefix ? `${prefix}.${key}` : key
    if (key === "sets") return [row(`${path}.<name>`, value, defs, true)]
    const nested: Array<string> = []
    if (value["type"] === "object") nested.push(...fields(value, path, defs))
    const items = value["items"]
    if (value["type"] === "array" && isNode(items) && items["type"] === "object") nested.push(...fields(items, `${path}[]`, defs))
    return [row(path, value, defs, required.has(key)), ...nested]
  })
}

export const pipelineFieldReference = (): string => {
  const root = JSONSchema.make(Pipeline) as unknown as Node
  const defs = (root["$defs"] ?? {}) as Node
  const pipeline = defs["ClapperPipeline"] as Node
  const sets = ((pipeline["properties"] as Node)["sets"] as Node)["patternProperties"] as Node
  const kinds = ((Object.values(sets)[0] as Node)["anyOf"] as ReadonlyArray<Node>).filter(isNode)
  const header = ["| Field | Type | Meaning |", "| --- | --- | --- |"]
  return [
    "### Top level",
    "",
    ...header,
    ...fields(pipeline, "", defs),
    ...kinds.flatMap((kind) => [
      "",
      `### Set kind \`${String(kind["title"])}\`: ${String(kind["description"] ?? "")}`,
      "",
      ...header,
      ...fields(kind, "sets.<name>", defs)
    ])
  ].join("\n")
}
