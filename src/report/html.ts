/**
 * HTML built so that user text cannot become markup: every value put into an `html` template is
 * escaped (job ids, file names, data values and error messages are all user text), unless it is
 * itself the result of an `html` template. Only the report's own CSS and script enter as `trusted`.
 */

/** A fragment of HTML that is safe to insert as it is. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

/** What a template accepts: text (escaped), numbers, fragments, lists of them; nothing for absent values. */
export type HtmlValue = string | number | SafeHtml | ReadonlyArray<HtmlValue> | undefined | null | false

const entities: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

/** Text made safe for element content and for quoted attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c] ?? c)

const render = (value: HtmlValue): string => {
  if (value === undefined || value === null || value === false) return ""
  if (value instanceof SafeHtml) return value.text
  if (typeof value === "number") return escapeHtml(String(value))
  if (typeof value === "string") return escapeHtml(value)
  return value.map(render).join("")
}

/** A tagged template: `html\`<td>${job.id}</td>\`` escapes the id. */
export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<HtmlValue>): SafeHtml =>
  new SafeHtml(strings.reduce((out, piece, i) => out + piece + (i < values.length ? render(values[i]) : ""), ""))

/** The report's own constant CSS and script: never user text. */
export const trusted = (text: string): SafeHtml => new SafeHtml(text)

/**
 * A relative link to a file, each path segment percent-encoded: a file named `a:b` or `#1` stays
 * a file name (never a URL scheme or a fragment). Segments are `/`-separated.
 */
export const fileHref = (relativePath: string): string =>
  relativePath
    .split("/")
    .map((segment) => (segment === ".." || segment === "." ? segment : encodeURIComponent(segment)))
    .join("/")
