/**
 * Fitting text to a terminal: width in columns (ANSI colour sequences take none), truncation
 * with an ellipsis, and colour that `NO_COLOR` turns off.
 */

// Select Graphic Rendition sequences only: the frame uses nothing else.
const SGR = /\u001B\[[0-9;]*m/y
const ELLIPSIS = "…"
const RESET = "\u001B[0m"

/** The number of columns `text` takes: one per code point, colour sequences excluded. */
export const visibleWidth = (text: string): number => {
  let width = 0
  for (let i = 0; i < text.length; ) {
    SGR.lastIndex = i
    const match = SGR.exec(text)
    if (match) {
      i += match[0].length
      continue
    }
    const codePoint = text.codePointAt(i) ?? 0
    i += codePoint > 0xffff ? 2 : 1
    width += 1
  }
  return width
}

/**
 * `text` cut to at most `width` columns, ending in `…` when anything was cut. Colour sequences
 * are kept (they take no room) and, if any was cut short, the colour is reset at the end.
 */
export const truncateEnd = (text: string, width: number): string => {
  if (visibleWidth(text) <= width) return text
  if (width <= 0) return ""
  let out = ""
  let used = 0
  let styled = false
  for (let i = 0; i < text.length; ) {
    SGR.lastIndex = i
    const match = SGR.exec(text)
    if (match) {
      out += match[0]
      styled = true
      i += match[0].length
      continue
    }
    if (used === width - 1) break
    const codePoint = text.codePointAt(i) ?? 0
    const char = String.fromCodePoint(codePoint)
    out += char
    used += 1
    i += char.length
  }
  return out + ELLIPSIS + (styled ? RESET : "")
}

/** Plain `text` (no colour) cut to at most `width` columns from the left: `…/locales/bob--fr.mp4`. */
export const truncateStart = (text: string, width: number): string => {
  const chars = Array.from(text)
  if (chars.length <= width) return text
  if (width <= 0) return ""
  return ELLIPSIS + chars.slice(chars.length - (width - 1)).join("")
}

/** Plain `text` padded with spaces to `width` columns. */
export const padEnd = (text: string, width: number): string => text + " ".repeat(Math.max(0, width - visibleWidth(text)))

export interface Palette {
  readonly green: (text: string) => string
  readonly red: (text: string) => string
  readonly yellow: (text: string) => string
  readonly dim: (text: string) => string
}

const sgr = (code: string) => (text: string) => (text === "" ? text : `\u001B[${code}m${text}${RESET}`)

export const colourPalette: Palette = { green: sgr("32"), red: sgr("31"), yellow: sgr("33"), dim: sgr("2") }
const identity = (text: string) => text
export const plainPalette: Palette = { green: identity, red: identity, yellow: identity, dim: identity }

/** Whether the environment asks for no colour (https://no-color.org: `NO_COLOR` set and not empty). */
export const noColorRequested = (env: Readonly<Record<string, string | undefined>>): boolean => {
  const value = env["NO_COLOR"]
  return value !== undefined && value !== ""
}
