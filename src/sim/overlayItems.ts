import { Option } from "effect"
import { limits } from "../mirage/limits.ts"
import { issue, type ValidationIssue } from "./apiErrors.ts"
import type { OverlayItem, OverlayStyle } from "./overlayJobs.ts"

/**
 * The texts of a text overlay request, given either as repeated `texts` fields (with optional
 * `fonts`/`sizes`/`colors` aligned by index) or as one `items` JSON array of
 * `{text, style: {font, size, color}}`. Between 1 and `limits.maxOverlayTexts` texts; colours are
 * `#RRGGBB`; sizes are positive whole pixels.
 */
export interface OverlayFields {
  readonly texts: Option.Option<ReadonlyArray<string>>
  readonly items: Option.Option<string>
  readonly fonts: Option.Option<ReadonlyArray<string>>
  readonly sizes: Option.Option<ReadonlyArray<string>>
  readonly colors: Option.Option<ReadonlyArray<string>>
}

export interface CheckedOverlayItems {
  readonly issues: ReadonlyArray<ValidationIssue>
  readonly items: ReadonlyArray<OverlayItem>
}

const colorPattern = /^#[0-9A-Fa-f]{6}$/

const colorIssue = (loc: ReadonlyArray<string | number>) =>
  issue(loc, "String should match pattern '^#[0-9A-Fa-f]{6}$'", "string_pattern_mismatch")

const countIssue = (loc: ReadonlyArray<string | number>, count: number): Option.Option<ValidationIssue> =>
  count === 0
    ? Option.some(issue(loc, "List should have at least 1 item after validation, not 0", "too_short"))
    : count > limits.maxOverlayTexts
      ? Option.some(issue(loc, `List should have at most ${limits.maxOverlayTexts} items after validation, not ${count}`, "too_long"))
      : Option.none()

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const parseJson = (text: string): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(text) as unknown)
  } catch {
    return Option.none()
  }
}

const noStyle: OverlayStyle = { font: null, size: null, color: null }

const fromItems = (raw: string): CheckedOverlayItems => {
  const loc = ["body", "items"]
  const parsed = parseJson(raw)
  if (Option.isNone(parsed)) return { issues: [issue(loc, "Invalid JSON", "json_invalid")], items: [] }
  if (!Array.isArray(parsed.value)) return { issues: [issue(loc, "Input should be a valid list", "list_type")], items: [] }
  const entries: ReadonlyArray<unknown> = parsed.value
  const issues: Array<ValidationIssue> = [...Option.toArray(countIssue(loc, entries.length))]
  const items: Array<OverlayItem> = []
  entries.forEach((entry, index) => {
    const at = [...loc, index]
    if (!isRecord(entry)) {
      issues.push(issue(at, "Input should be a valid dictionary or object", "model_attributes_type"))
      return
    }
    const text = entry["text"]
    if (typeof text !== "string")
      issues.push(
        issue(
          [...at, "text"],
          text === undefined ? "Field required" : "Input should be a valid string",
          text === undefined ? "missing" : "string_type"
        )
      )
    else if (text.trim() === "") issues.push(issue([...at, "text"], "String should have at least 1 character", "string_too_short"))
    const style = entry["style"]
    let checkedStyle = noStyle
    if (style !== undefined && style !== null) {
      if (!isRecord(style)) {
        issues.push(issue([...at, "style"], "Input should be a valid dictionary or object", "model_attributes_type"))
      } else {
        const { color, font, size } = style
        if (font !== undefined && font !== null && (typeof font !== "string" || font.trim() === "")) {
          issues.push(issue([...at, "style", "font"], "Input should be a non-empty string", "string_type"))
        }
        if (size !== undefined && size !== null && !(typeof size === "number" && Number.isInteger(size) && size > 0)) {
          issues.push(issue([...at, "style", "size"], "Input should be a positive integer", "int_type"))
        }
        if (color !== undefined && color !== null && !(typeof color === "string" && colorPattern.test(color))) {
          issues.push(colorIssue([...at, "style", "color"]))
        }
        checkedStyle = {
          font: typeof font === "string" ? font : null,
          size: typeof size === "number" ? size : null,
          color: typeof color === "string" ? color : null
        }
      }
    }
    if (typeof text === "string") items.push({ text, style: checkedStyle })
  })
  return { issues, items }
}

const fromTexts = (texts: ReadonlyArray<string>, fields: OverlayFields): CheckedOverlayItems => {
  const issues: Array<ValidationIssue> = [...Option.toArray(countIssue(["body", "texts"], texts.length))]
  texts.forEach((text, index) => {
    if (text.trim() === "") issues.push(issue(["body", "texts", index], "String should have at least 1 character", "string_too_short"))
  })
  const aligned = (name: string, values: Option.Option<ReadonlyArray<string>>): ReadonlyArray<string> => {
    if (Option.isNone(values)) return []
    if (values.value.length > texts.length) {
      issues.push(issue(["body", name], `${name} has ${values.value.length} values for ${texts.length} text(s); align them by index`))
    }
    return values.value
  }
  const fonts = aligned("fonts", fields.fonts)
  const sizes = aligned("sizes", fields.sizes)
  const colors = aligned("colors", fields.colors)
  fonts.forEach((font, index) => {
    if (font.trim() === "") issues.push(issue(["body", "fonts", index], "String should have at least 1 character", "string_too_short"))
  })
  sizes.forEach((size, index) => {
    if (!/^\d+$/.test(size.trim()) || Number(size) <= 0) {
      issues.push(issue(["body", "sizes", index], "Input should be a positive integer (pixels)", "int_parsing"))
    }
  })
  colors.forEach((color, index) => {
    if (!colorPattern.test(color)) issues.push(colorIssue(["body", "colors", index]))
  })
  const items = texts.map((text, index) => ({
    text,
    style: {
      font: fonts[index] ?? null,
      size: sizes[index] !== undefined ? Number(sizes[index]) : null,
      color: colors[index] ?? null
    }
  }))
  return { issues, items }
}

export const checkOverlayItems = (fields: OverlayFields): CheckedOverlayItems => {
  if (Option.isSome(fields.texts) && Option.isSome(fields.items)) {
    return { issues: [issue(["body", "items"], "Provide texts or items, not both")], items: [] }
  }
  if (Option.isSome(fields.items)) {
    const checked = fromItems(fields.items.value)
    const stray = (["fonts", "sizes", "colors"] as const).filter((name) => Option.isSome(fields[name]))
    return {
      issues: [
        ...checked.issues,
        ...stray.map((name) => issue(["body", name], `${name} applies to texts; with items, give each item a style`))
      ],
      items: checked.items
    }
  }
  if (Option.isSome(fields.texts)) return fromTexts(fields.texts.value, fields)
  return { issues: [issue(["body", "texts"], "Provide at least one text (texts or items)", "missing")], items: [] }
}
