/**
 * Fitting text to a terminal: width in columns as the terminal draws it (`string-width`: a CJK
 * character or an emoji takes two, a combining mark none, colour sequences none), truncation
 * with an ellipsis that never passes the width, and colour that `NO_COLOR` turns off.
 *
 * Text is cut between grapheme clusters (`Intl.Segmenter`), never inside one: an emoji with a
 * skin tone or a ZWJ sequence stays whole, and a wide character that would straddle the last
 * column is left out rather than drawn half (which would make the terminal wrap the line and
 * break the live redraw).
 */
import stringWidth from "string-width"

// Select Graphic Rendition sequences only: the frame uses nothing else.
const SGR = /\u001B\[[0-9;]*m/y
const ELLIPSIS = "…"
const RESET = "\u001B[0m"

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" })

interface Piece {
  readonly text: string
  /** Columns it takes: 0 for a colour sequence. */
  readonly width: number
  readonly sgr: boolean
}

/** `text` as colour sequences and grapheme clusters, each with its width. */
const piecesOf = (text: string): ReadonlyArray<Piece> => {
  const pieces: Array<Piece> = []
  let plain = ""
  const flush = () => {
    for (const { segment } of graphemes.segment(plain)) pieces.push({ text: segment, width: stringWidth(segment), sgr: false })
    plain = ""
  }
  for (let i = 0; i < text.length; ) {
    SGR.lastIndex = i
    const match = SGR.exec(text)
    if (match) {
      flush()
      pieces.push({ text: match[0], width: 0, sgr: true })
      i += match[0].length
    } else {
      plain += text.charAt(i)
      i += 1
    }
  }
  flush()
  return pieces
}

/** The number of columns `text` takes in a terminal (wide characters two, colour sequences none). */
export const visibleWidth = (text: string): number => stringWidth(text)

/**
 * `text` cut to at most `width` columns, ending in `…` when anything was cut. Colour sequences
 * are kept (they take no room) and, if any was cut short, the colour is reset at the end.
 */
export const truncateEnd = (text: string, width: number): string => {
  if (visibleWidth(text) <= width) return text
  if (width <= 0) return ""
  const room = width - visibleWidth(ELLIPSIS)
  let out = ""
  let used = 0
  let styled = false
  for (const piece of piecesOf(text)) {
    if (piece.sgr) {
      out += piece.text
      styled = true
      continue
    }
    if (used + piece.width > room) break
    out += piece.text
    used += piece.width
  }
  return out + ELLIPSIS + (styled ? RESET : "")
}

/** Plain `text` (no colour) cut to at most `width` columns from the left: `…/locales/bob--fr.mp4`. */
export const truncateStart = (text: string, width: number): string => {
  if (visibleWidth(text) <= width) return text
  if (width <= 0) return ""
  const room = width - visibleWidth(ELLIPSIS)
  const pieces = piecesOf(text)
  let kept = ""
  let used = 0
  for (let i = pieces.length - 1; i >= 0; i--) {
    const piece = pieces[i]
    if (piece === undefined || used + piece.width > room) break
    kept = piece.text + kept
    used += piece.width
  }
  return ELLIPSIS + kept
}

/** `text` padded with spaces to `width` columns. */
export const padEnd = (text: string, width: number): string => text + " ".repeat(Math.max(0, width - visibleWidth(text)))

/** `text` padded on the left with spaces to `width` columns. */
export const padStart = (text: string, width: number): string => " ".repeat(Math.max(0, width - visibleWidth(text))) + text

/**
 * The rows `lines` take on a terminal `columns` wide that wraps what does not fit: a frame drawn
 * at a wider width takes more rows once the terminal is narrowed and reflows it.
 */
export const rowsAt = (lines: ReadonlyArray<string>, columns: number): number =>
  lines.reduce((rows, line) => rows + Math.max(1, Math.ceil(visibleWidth(line) / Math.max(1, columns))), 0)

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
