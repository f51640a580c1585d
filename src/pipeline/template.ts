/**
 * The template language of pipeline files: `{{ name }}` placeholders in otherwise literal text.
 *
 *   renders/{{ set }}/{{ row.name | slug }}--{{audio.stem}}.mp4
 *
 * - A placeholder is `{{`, a variable name, any number of `| filter`, then `}}`. Blanks (space,
 *   tab, CR, LF) around the name, the bars and the filters are optional.
 * - A variable name is a dotted path of segments `[A-Za-z_][A-Za-z0-9_-]*`: `set`, `image.stem`,
 *   `row.first_name`, `vars.brand`.
 * - Filters apply left to right: `slug`, `lower`, `upper` (see `filterNames`).
 * - Escapes: `{{{{` is a literal `{{` and `}}}}` a literal `}}` (both would otherwise be errors,
 *   so no valid template changes meaning); a lone `{` or `}` is literal. In a run of `{` the last
 *   two open a placeholder when the run's length is 2 or 3 more than a multiple of 4, so
 *   `{{{x}}` is a literal `{` then `{{x}}`, and `{{x}}}` is `{{x}}` then `}`. `escapeLiteral`
 *   turns any text into a template that renders to exactly that text, wherever it is placed.
 * - Errors: an unclosed `{{`, a stray `}}`, an empty placeholder, an invalid name or filter
 *   (syntax); an unknown filter; at check or render time an unknown variable or one naming a
 *   group rather than a value; and, for templates that become file paths (`pathSafe`), a
 *   substituted value that is empty or could steer the path (`/`, `\`, `..`, control characters,
 *   or a `.`/`..` path segment formed with the text around it).
 *
 * Every error carries a span into the template source: the placeholder, or for filter errors the
 * filter's name, so callers can report `file:line:column`. Pure, no I/O.
 */
import { Either } from "effect"
import { didYouMean } from "./didYouMean.ts"

/** Offsets into the template source string: `start` inclusive, `end` exclusive. */
export interface Span {
  readonly start: number
  readonly end: number
}

export type TemplateErrorKind = "syntax" | "unknownVariable" | "unknownFilter" | "unsafeValue" | "emptyValue"

export interface TemplateError {
  readonly kind: TemplateErrorKind
  readonly message: string
  readonly span: Span
}

export interface Placeholder {
  /** The variable's dotted path, split: `row.name` is `["row", "name"]`. */
  readonly path: ReadonlyArray<string>
  /** Filter names in the order they apply. */
  readonly filters: ReadonlyArray<string>
  /** From the opening `{{` to just past the closing `}}`. */
  readonly span: Span
}

export interface Template {
  readonly source: string
  /** Literal text (escapes resolved, never empty, never two in a row) and placeholders, in order. */
  readonly parts: ReadonlyArray<string | Placeholder>
  readonly placeholders: ReadonlyArray<Placeholder>
}

/** The values a template can use: nested groups whose leaves are strings or numbers. */
export type TemplateScope = { readonly [key: string]: string | number | TemplateScope }

// ---------------------------------------------------------------------------------------------
// Filters

const transliterations: { readonly [letter: string]: string } = {
  ß: "ss",
  ẞ: "ss",
  æ: "ae",
  Æ: "ae",
  œ: "oe",
  Œ: "oe",
  ø: "o",
  Ø: "o",
  ł: "l",
  Ł: "l",
  đ: "d",
  Đ: "d",
  ð: "d",
  Ð: "d",
  þ: "th",
  Þ: "th",
  ı: "i"
}

/**
 * A file-name-safe slug: lowercase ASCII letters and digits in runs joined by single `-`, no `-`
 * at either end; empty when the text has no letters or digits. Diacritics are stripped via NFKD
 * (`Crème Brûlée` → `creme-brulee`), and the few Latin letters NFKD leaves whole are spelt out
 * (`ß` → `ss`, `æ` → `ae`, `ø` → `o`, `œ` → `oe`, `ł` → `l`, `đ`/`ð` → `d`, `þ` → `th`, `ı` → `i`).
 * Every other character (non-Latin scripts included) separates words. Idempotent.
 */
export const slug = (s: string): string =>
  // ASCII has no marks to strip and no letters to spell out: the last steps alone give the same.
  asciiOnly.test(s)
    ? s
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "")
    : s
        .normalize("NFKD")
        .replace(/\p{M}+/gu, "")
        .replace(/[ßẞæÆœŒøØłŁđĐðÐþÞı]/g, (letter) => transliterations[letter] ?? "-")
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "")

const asciiOnly = /^[\u0000-\u007f]*$/

const filters: { readonly [name: string]: (value: string) => string } = {
  slug,
  lower: (value) => value.toLowerCase(),
  upper: (value) => value.toUpperCase()
}

/** The filters a placeholder may use, in documentation order. */
export const filterNames: ReadonlyArray<string> = Object.keys(filters)

const filterNamed = (name: string): ((value: string) => string) | undefined => (Object.hasOwn(filters, name) ? filters[name] : undefined)

// ---------------------------------------------------------------------------------------------
// Parsing

const identifier = /^[A-Za-z_][A-Za-z0-9_-]*$/
const isBlank = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r"

const span = (start: number, end: number): Span => ({ start, end })

const syntax = (message: string, at: Span): TemplateError => ({ kind: "syntax", message, span: at })

/** A piece of a placeholder between bars, with its blanks trimmed. */
interface Token {
  readonly text: string
  readonly span: Span
  /** Offset of the `|` before it, or -1 for the name. */
  readonly bar: number
}

const trimmedToken = (source: string, start: number, end: number, bar: number): Token => {
  let s = start
  let e = end
  while (s < e && isBlank(source[s])) s++
  while (e > s && isBlank(source[e - 1])) e--
  return { text: source.slice(s, e), span: span(s, e), bar }
}

const quote = (text: string): string => {
  const json = JSON.stringify(text)
  return json.length > 62 ? `${json.slice(0, 60)}…"` : json
}

const listNames = (names: ReadonlyArray<string>, max = 12): string =>
  names.length > max ? `${names.slice(0, max).join(", ")}, …` : names.join(", ")

const unknownFilterError = (name: string, at: Span): TemplateError => {
  const suggestion = didYouMean(name, filterNames)
  const hint = suggestion === undefined ? "" : `did you mean "${suggestion}"? `
  return { kind: "unknownFilter", message: `unknown filter "${name}" (${hint}available: ${filterNames.join(", ")})`, span: at }
}

const nameProblem = (name: string): string => {
  if (/[ \t\r\n]/.test(name)) return `; a name has no blanks, and filters follow a "|", as in {{ row.name | slug }}`
  return `; a name is a dotted path of letters, digits, "_" and "-", each part starting with a letter or "_", as in row.first_name`
}

const parsePlaceholder = (source: string, open: number, close: number, errors: Array<TemplateError>): Placeholder | undefined => {
  const whole = span(open, close + 2)
  const tokens: Array<Token> = []
  let pieceStart = open + 2
  let bar = -1
  for (let k = open + 2; k < close; k++) {
    if (source[k] === "|") {
      tokens.push(trimmedToken(source, pieceStart, k, bar))
      pieceStart = k + 1
      bar = k
    }
  }
  tokens.push(trimmedToken(source, pieceStart, close, bar))
  const [name, ...filterTokens] = tokens
  if (name === undefined) return undefined
  const before = errors.length

  if (name.text === "" && filterTokens.length === 0) {
    errors.push(syntax(`empty placeholder ${quote(source.slice(open, close + 2))}: write a variable name, as in {{ row.name }}`, whole))
    return undefined
  }
  const path = name.text.split(".")
  if (name.text === "") {
    errors.push(syntax(`placeholder has no variable name before "|"`, whole))
  } else if (!path.every((segment) => identifier.test(segment))) {
    errors.push(syntax(`invalid variable name ${quote(name.text)}${nameProblem(name.text)}`, whole))
  }
  for (const token of filterTokens) {
    if (token.text === "") {
      errors.push(syntax(`missing filter name after "|" (filters: ${filterNames.join(", ")})`, span(token.bar, token.bar + 1)))
    } else if (!identifier.test(token.text)) {
      errors.push(syntax(`invalid filter name ${quote(token.text)} (filters: ${filterNames.join(", ")})`, token.span))
    } else if (filterNamed(token.text) === undefined) {
      errors.push(unknownFilterError(token.text, token.span))
    }
  }
  if (errors.length > before) return undefined
  return { path, filters: filterTokens.map((token) => token.text), span: whole }
}

/**
 * Parses a template. Either the template, or every syntax error and unknown filter in it (in
 * source order), each with its span.
 */
export const parseTemplate = (source: string): Either.Either<Template, ReadonlyArray<TemplateError>> => {
  const errors: Array<TemplateError> = []
  const parts: Array<string | Placeholder> = []
  const placeholders: Array<Placeholder> = []
  let literal = ""
  const flush = () => {
    if (literal !== "") parts.push(literal)
    literal = ""
  }
  // The next "}}" / "{{" at or after some offset, cached so scanning stays linear.
  let nextClose = -2
  let nextOpen = -2
  const closeFrom = (from: number) => {
    if (nextClose !== -1 && nextClose < from) nextClose = source.indexOf("}}", from)
    return nextClose
  }
  const openFrom = (from: number) => {
    if (nextOpen !== -1 && nextOpen < from) nextOpen = source.indexOf("{{", from)
    return nextOpen
  }

  let i = 0
  while (i < source.length) {
    if (source.startsWith("{{", i)) {
      // A run of n "{": the last two open a placeholder when n % 4 is 2 or 3; before them each
      // "{{{{" is a literal "{{" and an odd one out a literal "{".
      let n = 2
      while (source[i + n] === "{") n++
      const rest = n % 4
      literal += "{{".repeat((n - rest) / 4) + (rest % 2 === 1 ? "{" : "")
      if (rest < 2) {
        i += n
        continue
      }
      i += n - 2
      const close = closeFrom(i + 2)
      const reopen = openFrom(i + 2)
      if (close === -1 || (reopen !== -1 && reopen < close)) {
        const why = close === -1 ? `no "}}" follows it` : `another "{{" comes before its "}}"`
        errors.push(syntax(`unclosed "{{": ${why} (for a literal "{{" write "{{{{")`, span(i, i + 2)))
        i += 2
      } else {
        const placeholder = parsePlaceholder(source, i, close, errors)
        if (placeholder !== undefined) {
          flush()
          parts.push(placeholder)
          placeholders.push(placeholder)
        }
        i = close + 2
      }
    } else if (source.startsWith("}}}}", i)) {
      literal += "}}"
      i += 4
    } else if (source.startsWith("}}", i)) {
      errors.push(syntax(`stray "}}" with no "{{" before it (for a literal "}}" write "}}}}")`, span(i, i + 2)))
      i += 2
    } else {
      literal += source[i]
      i += 1
    }
  }
  flush()
  if (errors.length > 0) return Either.left(errors.sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end))
  return Either.right({ source, parts, placeholders })
}

/** The template source whose only part is `text`, literally: escapes every `{{` and `}}`. */
export const escapeLiteral = (text: string): string => text.replace(/\{\{/g, "{{{{").replace(/\}\}/g, "}}}}")

/** A placeholder as it would be written, e.g. `{{ row.name | slug }}`. */
export const formatPlaceholder = (placeholder: Pick<Placeholder, "path" | "filters">): string =>
  `{{ ${[placeholder.path.join("."), ...placeholder.filters].join(" | ")} }}`

// ---------------------------------------------------------------------------------------------
// Variables

/** The variables that exist, as a tree; a `*` child stands for any name. */
interface VariableNode {
  leaf: boolean
  readonly children: Map<string, VariableNode>
}

const newNode = (): VariableNode => ({ leaf: false, children: new Map() })

const childOf = (node: VariableNode, key: string): VariableNode => {
  const existing = node.children.get(key)
  if (existing !== undefined) return existing
  const created = newNode()
  node.children.set(key, created)
  return created
}

const treeFromPatterns = (patterns: Iterable<string>): VariableNode => {
  const root = newNode()
  for (const pattern of patterns) {
    if (pattern === "") continue
    pattern.split(".").reduce(childOf, root).leaf = true
  }
  return root
}

const treeFromScope = (scope: TemplateScope): VariableNode => {
  const node = newNode()
  for (const [key, value] of Object.entries(scope)) {
    node.children.set(key, typeof value === "object" ? treeFromScope(value) : { leaf: true, children: new Map() })
  }
  return node
}

const leafPaths = (node: VariableNode, prefix: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  if (node.leaf && prefix.length > 0) out.push(prefix.join("."))
  for (const [key, child] of node.children) out.push(...leafPaths(child, [...prefix, key]))
  return out
}

/** `set, index, image.{path,name,stem,ext}, row.*, vars.brand`: every variable, one entry per top-level name. */
const overview = (root: VariableNode): Array<string> =>
  [...root.children].flatMap(([key, child]) => {
    const entries: Array<string> = child.leaf ? [key] : []
    const below = [...child.children].flatMap(([sub, grandchild]) => leafPaths(grandchild, [sub]))
    if (below.length === 1) entries.push(`${key}.${below[0] ?? ""}`)
    else if (below.length > 1) entries.push(`${key}.{${listNames(below, 8).replace(/, /g, ",")}}`)
    return entries
  })

/** Suggests a variable for a mistyped path: each segment corrected in turn, else the whole path (for a misplaced dot). */
const suggestPath = (root: VariableNode, path: ReadonlyArray<string>): string | undefined => {
  const corrected: Array<string> = []
  let node: VariableNode | undefined = root
  for (const segment of path) {
    if (node === undefined) break
    const exact: VariableNode | undefined = node.children.get(segment) ?? node.children.get("*")
    if (exact !== undefined) {
      corrected.push(segment)
      node = exact
      continue
    }
    const guess = didYouMean(
      segment,
      [...node.children.keys()].filter((key) => key !== "*")
    )
    if (guess === undefined) {
      node = undefined
      break
    }
    corrected.push(guess)
    node = node.children.get(guess)
  }
  if (node !== undefined && node.leaf && corrected.length === path.length) return corrected.join(".")
  // A dot too many or too few (`image_stem`, `imagestem`): compare whole paths of another depth.
  return didYouMean(
    path.join("."),
    leafPaths(root, []).filter((candidate) => {
      const segments = candidate.split(".")
      return segments.length !== path.length && !segments.includes("*")
    })
  )
}

/** Why `path` names no value among the variables of `root`, or `undefined` when it does. */
const variableProblem = (root: VariableNode, path: ReadonlyArray<string>): string | undefined => {
  const name = path.join(".")
  let node = root
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] ?? ""
    const next = node.children.get(segment) ?? node.children.get("*")
    if (next === undefined) {
      if (i > 0 && node.leaf && node.children.size === 0) {
        return `unknown variable "${name}": "${path.slice(0, i).join(".")}" is a value, not a group with fields`
      }
      const suggestion = suggestPath(root, path)
      const available = i > 0 ? leafPaths(node, path.slice(0, i)) : overview(root)
      const hints = [
        ...(suggestion === undefined ? [] : [`did you mean "${suggestion}"?`]),
        available.length > 0 ? `available: ${listNames(available)}` : "no variables are available here"
      ]
      return `unknown variable "${name}" (${hints.join(" ")})`
    }
    node = next
  }
  if (node.leaf) return undefined
  const inside = leafPaths(node, path)
  return inside.length > 0
    ? `"${name}" is a group of variables, not a value (use one of: ${listNames(inside)})`
    : `"${name}" is a group of variables, not a value, and it is empty`
}

/**
 * Every variable in `scope`, as dotted paths in the scope's order: `{ image: { stem: "a" } }` gives
 * `["image.stem"]`. Suitable as `checkVariables`' `available`.
 */
export const variablePaths = (scope: TemplateScope): ReadonlyArray<string> => leafPaths(treeFromScope(scope), [])

/**
 * Checks, before any data is at hand, that every placeholder names a variable that will exist.
 *
 * `available` lists the variables as dotted paths; a `*` segment stands for any single name, for
 * variables known only by their group: `["set", "index", "image.stem", "row.*", "vars.brand"]`
 * accepts `{{ row.first_name }}` but not `{{ row }}`, `{{ row.a.b }}` or `{{ vars.brnd }}`.
 * `variablePaths(exampleScope)` turns an example scope into such a list. The list's order is the
 * order messages list the variables in.
 */
export const checkVariables = (template: Template, available: Iterable<string>): ReadonlyArray<TemplateError> => {
  const root = treeFromPatterns(available)
  return template.placeholders.flatMap((placeholder): ReadonlyArray<TemplateError> => {
    const problem = variableProblem(root, placeholder.path)
    return problem === undefined ? [] : [{ kind: "unknownVariable", message: problem, span: placeholder.span }]
  })
}

// ---------------------------------------------------------------------------------------------
// Rendering

const lookup = (scope: TemplateScope, path: ReadonlyArray<string>): string | undefined => {
  let current: string | number | TemplateScope = scope
  for (const segment of path) {
    if (typeof current !== "object" || !Object.hasOwn(current, segment)) return undefined
    const next: string | number | TemplateScope | undefined = current[segment]
    if (next === undefined) return undefined
    current = next
  }
  return typeof current === "object" ? undefined : String(current)
}

const controlCharacter = /[\u0000-\u001f\u007f]/

/** What makes `value` unfit to be part of a file path, if anything. */
const pathProblem = (value: string): string | undefined => {
  if (value.includes("..")) return `contains ".."`
  if (value.includes("/")) return `contains "/"`
  if (value.includes("\\")) return "contains a backslash"
  if (controlCharacter.test(value)) return "contains a control character"
  return undefined
}

/** Stands in the output for a placeholder that failed, so it never joins a `.`/`..` segment. */
const failed = "\u0000"

interface Substitution {
  readonly placeholder: Placeholder
  readonly value: string
  readonly start: number
  readonly end: number
}

const withSlug = (placeholder: Placeholder): string =>
  formatPlaceholder({ path: placeholder.path, filters: [...placeholder.filters.filter((f) => f !== "slug"), "slug"] })

const described = (placeholder: Placeholder, value: string): string => {
  const name = placeholder.path.join(".")
  const after = placeholder.filters.length > 0 ? ` after "| ${placeholder.filters.join(" | ")}"` : ""
  return `the value of "${name}"${after} (${quote(value)})`
}

/**
 * Renders a parsed template with the values of `scope`, or every error found (unknown variables,
 * and with `pathSafe` unsafe or empty values), each at its placeholder.
 *
 * `pathSafe: true` is for every template that becomes a file path: each substituted value (after
 * its filters) must be non-empty and free of `/`, `\`, `..` and control characters, and may not
 * make a `.` or `..` path segment together with the text around it. Data never chooses where
 * files are read or written; the template's own literal text may contain anything.
 */
export const renderTemplate = (
  template: Template,
  scope: TemplateScope,
  options: { readonly pathSafe: boolean }
): Either.Either<string, ReadonlyArray<TemplateError>> => {
  const first = renderParts(template, scope, options.pathSafe, false)
  const errors = first.errors ?? []
  // Where each value went matters only to a "." value (see `dotSegmentErrors`): then it is rendered again, noting them.
  if (options.pathSafe && first.dotValue)
    errors.push(...dotSegmentErrors(first.out, renderParts(template, scope, true, true).substitutions))
  if (errors.length === 0) return Either.right(first.out)
  return Either.left(errors.sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end))
}

const noSubstitutions: ReadonlyArray<Substitution> = []

/**
 * The text of a template and its errors but the dot segments', and with `track` where each value
 * went. Nothing is allocated beyond the text when nothing is wrong: it runs for every path of
 * every job.
 */
const renderParts = (
  template: Template,
  scope: TemplateScope,
  pathSafe: boolean,
  track: boolean
): { out: string; errors: Array<TemplateError> | undefined; substitutions: ReadonlyArray<Substitution>; dotValue: boolean } => {
  let errors: Array<TemplateError> | undefined
  const fail = (error: TemplateError) => {
    errors ??= []
    errors.push(error)
  }
  const substitutions: Array<Substitution> | undefined = track ? [] : undefined
  let dotValue = false
  let tree: VariableNode | undefined
  let out = ""
  for (const part of template.parts) {
    if (typeof part === "string") {
      out += part
      continue
    }
    const raw = lookup(scope, part.path)
    if (raw === undefined) {
      tree ??= treeFromScope(scope)
      const message = variableProblem(tree, part.path) ?? `unknown variable "${part.path.join(".")}"`
      fail({ kind: "unknownVariable", message, span: part.span })
      out += failed
      continue
    }
    let value = raw
    let filtered = true
    for (const name of part.filters) {
      const filter = filterNamed(name)
      if (filter === undefined) {
        fail(unknownFilterError(name, part.span))
        filtered = false
        break
      }
      value = filter(value)
    }
    if (!filtered) {
      out += failed
      continue
    }
    if (pathSafe) {
      if (value === "") {
        const name = part.path.join(".")
        const why = raw === "" ? `"${name}" is empty` : `"${name}" (${quote(raw)}) is empty after "| ${part.filters.join(" | ")}"`
        fail({ kind: "emptyValue", message: `${why}, and a file path cannot have an empty part`, span: part.span })
        out += failed
        continue
      }
      const problem = pathProblem(value)
      if (problem !== undefined) {
        fail({
          kind: "unsafeValue",
          message: `${described(part, value)} ${problem}, so it may not be part of a file path: data never chooses where files go (use ${withSlug(part)})`,
          span: part.span
        })
        out += failed
        continue
      }
    }
    if (value === ".") dotValue = true
    substitutions?.push({ placeholder: part, value, start: out.length, end: out.length + value.length })
    out += value
  }
  return { out, errors, substitutions: substitutions ?? noSubstitutions, dotValue }
}

/**
 * Values that make a `.` or `..` path segment with the literal text next to them (`.{{x}}` with
 * x = "."). A value holds no `/` or `\\` (those are refused), so it lies within one segment: only
 * a value of dots alone can be part of a `.` or `..` segment, and `..` is refused too. So only a
 * template with a "." value is looked at.
 */
const dotSegmentErrors = (out: string, substitutions: ReadonlyArray<Substitution>): Array<TemplateError> => {
  const errors: Array<TemplateError> = []
  let start = 0
  for (let k = 0; k <= out.length; k++) {
    if (k < out.length && out[k] !== "/" && out[k] !== "\\") continue
    const segment = out.slice(start, k)
    if (segment === "." || segment === "..") {
      for (const s of substitutions) {
        if (s.start < k && s.end > start) {
          errors.push({
            kind: "unsafeValue",
            message: `${described(s.placeholder, s.value)} makes the path segment "${segment}"${s.value === segment ? "" : " with the text around it"}, so it may not be part of a file path: data never chooses where files go (use ${withSlug(s.placeholder)})`,
            span: s.placeholder.span
          })
        }
      }
    }
    start = k + 1
  }
  return errors
}
