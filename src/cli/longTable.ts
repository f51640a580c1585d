/**
 * `formatTable`'s columns for tables of any length (a plan's million jobs): the widths found in
 * one pass over the rows, the lines made in a second and handed out a thousand to a piece, so
 * neither every row's cells nor every line are held at once.
 */

import { columnWidths, tableLine } from "./table.ts"

/** Lines per piece of text. */
const linesPerPiece = 1_000

/**
 * The table of `count` rows under `header`, as pieces of text (each line ends with a newline):
 * the same lines as `formatTable(header, rows)`. `rowAt` is called twice for each row.
 */
export function* longTablePieces(
  header: ReadonlyArray<string>,
  count: number,
  rowAt: (index: number) => ReadonlyArray<string>
): Generator<string, void, undefined> {
  const widths = columnWidths(header, count, rowAt)
  let piece = `${tableLine(header, widths)}\n`
  for (let i = 0; i < count; i++) {
    piece += `${tableLine(rowAt(i), widths)}\n`
    if ((i + 1) % linesPerPiece === 0) {
      yield piece
      piece = ""
    }
  }
  if (piece !== "") yield piece
}
