/**
 * Scalars as the user wrote them. YAML reads `007` as 7, `0x1F` as 31, `1e3` as 1000, `+1` as 1 and
 * `true` as a boolean; a value that ends up in a file name or a script must keep its text, so a
 * plain (unquoted) scalar whose value is not a string is taken by its source text instead.
 * JSON is read by the same parser (JSON is YAML 1.2), so a JSON number keeps its literal too.
 */
import { isAlias, isMap, isPair, isScalar, Scalar, type Document, type Node } from "yaml"

/**
 * The text of a scalar node (through an alias to one): its source for a plain number or boolean,
 * its value otherwise; `null` for a null (`~`, `null`, or nothing), `undefined` when the node is
 * not a scalar.
 */
export const scalarText = (node: unknown, doc?: Document.Parsed): string | null | undefined => {
  const target = isAlias(node) && doc ? node.resolve(doc) : node
  if (!isScalar(target)) return undefined
  const value: unknown = target.value
  if (value === null || value === undefined) return null
  if (typeof value === "string") return value
  if (target.type === Scalar.PLAIN && typeof target.source === "string" && target.source !== "") return target.source
  return String(value)
}

/**
 * `value` (the document as plain data) with the entries of the mapping at `key` replaced by
 * their source text where `scalarText` differs from the plain value: used for `vars`.
 */
export const withSourceTextAt = (doc: Document.Parsed, value: unknown, key: string): unknown => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value
  const record = value as Record<string, unknown>
  const mapping = doc.get(key, true) as Node | undefined
  if (!isMap(mapping) || typeof record[key] !== "object" || record[key] === null || Array.isArray(record[key])) return value
  const entries = { ...(record[key] as Record<string, unknown>) }
  for (const pair of mapping.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue
    const name = String(pair.key.value)
    const text = scalarText(pair.value, doc)
    if (typeof text === "string" && Object.hasOwn(entries, name)) entries[name] = text
  }
  return { ...record, [key]: entries }
}
