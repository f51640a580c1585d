import { Data } from "effect"

/** One problem with the user's input, at a place in one of their files. Lines and columns count from 1. */
export interface Diagnostic {
  readonly file: string
  readonly line: number
  readonly column: number
  readonly message: string
}

export const formatDiagnostic = (d: Diagnostic): string => `${d.file}:${d.line}:${d.column}: ${d.message}`

/** Diagnostics in a stable order: by file, then position, then text; duplicates removed. */
export const sortDiagnostics = (diagnostics: ReadonlyArray<Diagnostic>): ReadonlyArray<Diagnostic> => {
  const seen = new Set<string>()
  return [...diagnostics]
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.message.localeCompare(b.message))
    .filter((d) => {
      const key = formatDiagnostic(d)
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
}

/**
 * A pipeline cannot be run as written. Every problem found is listed (not only the first), each
 * naming its place and, where there is one, the fix.
 */
export class PipelineInvalid extends Data.TaggedError("PipelineInvalid")<{
  readonly diagnostics: ReadonlyArray<Diagnostic>
}> {
  override get message() {
    return sortDiagnostics(this.diagnostics).map(formatDiagnostic).join("\n")
  }
}
