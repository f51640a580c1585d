/** Left-aligned text columns for terminal reports; the last column is never padded. */

/** Each column's width over the header and `count` rows (`rowAt(i)`), in one pass: any number of rows. */
export const columnWidths = (
  header: ReadonlyArray<string>,
  count: number,
  rowAt: (index: number) => ReadonlyArray<string>
): ReadonlyArray<number> => {
  const widths = header.map((cell) => cell.length)
  for (let i = 0; i < count; i++) {
    const row = rowAt(i)
    for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c] ?? 0, (row[c] ?? "").length)
  }
  return widths
}

/** One row as a line of the table whose columns are `widths` wide (no newline). */
export const tableLine = (row: ReadonlyArray<string>, widths: ReadonlyArray<number>): string =>
  row
    .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
    .join("  ")
    .trimEnd()

export const formatTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<string> => {
  const widths = columnWidths(header, rows.length, (i) => rows[i] ?? [])
  return [header, ...rows].map((row) => tableLine(row, widths))
}

export const usd = (amount: number): string => `$${amount.toFixed(2)}`
