/**
 * A small terminal for the live display's tests: a grid of cells that the text and escape
 * sequences the display writes (log-update's cursor moves and erases) act on, lines wrapped at
 * its width, and, as most terminals do today (VTE, iTerm2, kitty, Windows Terminal), rewrapped
 * when it is resized. Its rows have no top: what scrolled off is still there to look at.
 */
import stringWidth from "string-width"

interface Row {
  cells: Array<string>
  /** The line goes on in the next row (the terminal wrapped it). */
  wrapped: boolean
}

const CSI = /\u001B\[(\??)([0-9;]*)([A-Za-z])/y
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" })

export class Screen {
  private rows: Array<Row> = [{ cells: [], wrapped: false }]
  private row = 0
  private col = 0

  constructor(private width: number) {}

  get columns(): number {
    return this.width
  }

  private rowAt(index: number): Row {
    while (this.rows.length <= index) this.rows.push({ cells: [], wrapped: false })
    return this.rows[index] as Row
  }

  private put(grapheme: string): void {
    const width = stringWidth(grapheme)
    if (width === 0) {
      const cells = this.rowAt(this.row).cells
      if (this.col > 0) cells[this.col - 1] = (cells[this.col - 1] ?? "") + grapheme
      return
    }
    if (this.col + width > this.width) {
      this.rowAt(this.row).wrapped = true
      this.row += 1
      this.col = 0
    }
    const cells = this.rowAt(this.row).cells
    while (cells.length < this.col) cells.push(" ")
    cells[this.col] = grapheme
    if (width === 2) cells[this.col + 1] = ""
    this.col += width
  }

  private control(params: string, final: string): void {
    const n = params === "" ? undefined : Number(params.split(";")[0])
    const row = this.rowAt(this.row)
    switch (final) {
      case "A":
        this.row = Math.max(0, this.row - (n ?? 1))
        return
      case "B":
        this.row += n ?? 1
        this.rowAt(this.row)
        return
      case "G":
        this.col = Math.max(0, (n ?? 1) - 1)
        return
      case "K":
        if ((n ?? 0) === 2) {
          row.cells = []
          row.wrapped = false
        } else row.cells.length = Math.min(row.cells.length, this.col)
        return
      case "J":
        row.cells.length = Math.min(row.cells.length, this.col)
        this.rows.length = this.row + 1
        return
      default:
      // Colours (m) and private modes (?2026h synchronized output, ?25l the cursor) draw nothing.
    }
  }

  write(data: string): void {
    let plain = ""
    const flush = () => {
      for (const { segment } of graphemes.segment(plain)) this.put(segment)
      plain = ""
    }
    for (let i = 0; i < data.length; ) {
      CSI.lastIndex = i
      const match = CSI.exec(data)
      if (match) {
        flush()
        this.control(match[2] ?? "", match[3] ?? "")
        i += match[0].length
        continue
      }
      const char = data.charAt(i)
      i += 1
      if (char === "\n" || char === "\r") {
        flush()
        // A terminal's line discipline turns \n into \r\n.
        if (char === "\n") this.row += 1
        this.col = 0
        this.rowAt(this.row)
      } else plain += char
    }
    flush()
  }

  /** A new width: the lines the terminal wrapped are joined and wrapped again at it, the cursor kept in its line. */
  resize(width: number): void {
    const lines: Array<Array<string>> = []
    let cursorLine = 0
    let cursorOffset = 0
    let current: Array<string> = []
    this.rows.forEach((row, index) => {
      if (index === this.row) {
        cursorLine = lines.length
        cursorOffset = current.length + this.col
      }
      current = current.concat(row.cells)
      if (!row.wrapped) {
        lines.push(current)
        current = []
      }
    })
    if (current.length > 0) lines.push(current)
    this.width = width
    const rows: Array<Row> = []
    lines.forEach((cells, index) => {
      const first = rows.length
      let row: Row = { cells: [], wrapped: false }
      rows.push(row)
      for (let i = 0; i < cells.length; i++) {
        const cell = cells[i] as string
        const wide = cells[i + 1] === ""
        if (row.cells.length + (wide ? 2 : 1) > width) {
          row.wrapped = true
          row = { cells: [], wrapped: false }
          rows.push(row)
        }
        row.cells.push(cell)
        if (wide) {
          row.cells.push("")
          i += 1
        }
      }
      if (index === cursorLine) {
        const inLine = Math.min(Math.floor(cursorOffset / width), rows.length - 1 - first)
        this.row = first + inLine
        this.col = cursorOffset - inLine * width
      }
    })
    this.rows = rows
  }

  /** What it shows, row by row: trailing blanks cut, and the empty rows at the bottom left out. */
  text(): ReadonlyArray<string> {
    const text = this.rows.map((row) => row.cells.join("").trimEnd())
    while (text.length > 0 && text.at(-1) === "") text.pop()
    return text
  }
}
