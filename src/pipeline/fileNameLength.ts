/**
 * File systems limit each name in a path to 255 bytes (ext4, APFS, NTFS in UTF-16 units, which
 * UTF-8 bytes never undercount). An output whose name is too long fails only when the run writes
 * it, after the render was paid for; so it is checked here, in UTF-8 bytes (`é` is 2, an emoji 4).
 *
 * The run never writes the output's own name first: it downloads to `.<name>.part` (6 bytes more,
 * src/runtime/download.ts) and copies a shared render to `<name>.copy.part` (10 more,
 * src/runtime/runPlan.ts), then renames. So the file name has 255 − 10 bytes; each folder 255.
 */

export const maxNameBytes = 255

/** The temporary names the run gives an output, by the bytes they add to its name. */
const temporaryNames = [
  { pattern: ".<name>.part", extra: 6 },
  { pattern: "<name>.copy.part", extra: 10 }
] as const

const widest = temporaryNames.reduce((a, b) => (b.extra > a.extra ? b : a))

/** The longest an output's file name may be, in UTF-8 bytes. */
export const maxOutputNameBytes = maxNameBytes - widest.extra

const byteLength = (text: string) => Buffer.byteLength(text, "utf8")

/** A long name cut for a message: its start and its end. */
export const shorten = (name: string, most = 40) => (name.length > most ? `${name.slice(0, most - 16)}…${name.slice(-12)}` : name)

/**
 * What is too long in `relative` (an output path, `/`-separated, as rendered), or undefined.
 * Each folder name and the file name are checked; the first problem is described.
 */
export const outputNameProblem = (relative: string): string | undefined => {
  // A UTF-16 unit is at most 3 bytes of UTF-8 (a pair of them 4): a short path has no long part.
  if (relative.length * 3 <= maxOutputNameBytes) return undefined
  const parts = relative.split("/")
  const fileName = parts[parts.length - 1] ?? ""
  for (const folder of parts.slice(0, -1)) {
    const bytes = byteLength(folder)
    if (bytes > maxNameBytes) {
      return `its folder name "${shorten(folder)}" is ${bytes} bytes in UTF-8, over the file system's ${maxNameBytes} per name: shorten it`
    }
  }
  const bytes = byteLength(fileName)
  if (bytes > maxOutputNameBytes) {
    return `its file name "${shorten(fileName)}" is ${bytes} bytes in UTF-8; the longest allowed is ${maxOutputNameBytes} (the file system's ${maxNameBytes} per name, less ${widest.extra} for the temporary "${widest.pattern}" the run writes first): shorten it`
  }
  return undefined
}
