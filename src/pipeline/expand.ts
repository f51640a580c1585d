/**
 * Sets → jobs. Deterministic: sets in file order, then pairs in order, matrix images × audios in
 * their listed order (a glob's matches sorted), rows in file order.
 *
 * Every problem is collected and reported together: template errors at the placeholder, glob
 * misses at the pattern, unsafe data at the data row, clashing outputs naming both jobs. A part
 * that cannot be expanded does not hide the rest: a rows set whose data file is missing still
 * has its templates checked, and the inputs of jobs a broken template kept from being made are
 * still listed, to be read with the others.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either } from "effect"
import { glob, isDynamicPattern } from "tinyglobby"
import { PipelineInvalid, type Diagnostic } from "./diagnostic.ts"
import type { WantedInput } from "./inspectInputs.ts"
import { closeExistingFile } from "./missingFile.ts"
import { limits } from "../mirage/limits.ts"
import { lockFilePath } from "../state/lockFile.ts"
import { stateDir } from "../state/stateDir.ts"
import { outputNameProblem, shorten } from "./fileNameLength.ts"
import type { InputFile, Job, Origin, OverlaySpec, SpeechSpec } from "./job.ts"
import type { LoadedPipeline } from "./load.ts"
import { makeOutputGuard, type GuardedFile } from "./outputGuard.ts"
import {
  describeProjectRoot,
  folderRelation,
  type FolderRelation,
  isInsideThrough,
  joinName,
  plainPathBelow,
  realLocation,
  resolveBelow
} from "./projectRoot.ts"
import { readDataRows, type DataRow, type DataRows } from "./rows.ts"
import { defaultOutputTemplate, defaultSpeechOutputTemplate, type MatrixSet, type PairsSet, type RowsSet, type SetSpec } from "./schema.ts"
import { checkVariables, parseTemplate, renderTemplate, type Template, type TemplateScope } from "./template.ts"
import { locate, locateInString, type PathSegment } from "./yamlSource.ts"

/**
 * The job of `draft` at `output`. The common job (an image, an audio, no stages) is written out
 * whole: a literal with a fixed shape is made many times faster than one built of spreads, and a
 * campaign makes a million of them. The keys come in the same order either way.
 */
const jobAt = (draft: Draft, extra: Partial<Pick<Job, "captions" | "overlay">>, id: string, output: string): Job => {
  const { set, index, image, audio, origin, row, rowColumns } = draft
  if (audio !== undefined && draft.speech === undefined && extra.captions === undefined && extra.overlay === undefined) {
    if (row === undefined) return { id, set, index, image, audio, output, origin }
    if (rowColumns !== undefined) return { id, set, index, image, audio, output, origin, row: row.values, rowColumns }
  }
  return {
    id,
    set,
    index,
    image,
    ...(audio ? { audio } : {}),
    ...(draft.speech ? { speech: draft.speech } : {}),
    ...extra,
    output,
    origin,
    ...(row ? { row: row.values, ...(rowColumns ? { rowColumns } : {}) } : {})
  }
}

/** At most this many errors from one template's renders are listed; the rest are counted. */
const maxRenderErrorsPerTemplate = 5

interface Draft {
  readonly set: string
  readonly index: number
  readonly image: InputFile
  readonly audio?: InputFile
  readonly speech?: SpeechSpec
  readonly origin: Origin
  readonly outputTemplate: CompiledTemplate
  readonly row?: DataRow
  /** The data file's columns in file order (rows sets): one array for the whole set. */
  readonly rowColumns?: ReadonlyArray<string>
}

/** An output folder: where it really is (symlinks resolved) and where that lies against the project root. */
interface OutputDir {
  readonly real: string
  readonly root: FolderRelation
}

interface CompiledTemplate {
  readonly template: Template
  readonly yamlPath: ReadonlyArray<PathSegment>
  readonly origin: Origin
  readonly at: (offset: number) => Origin
}

const fileVars = (file: Pick<InputFile, "path" | "relative">, path: Path.Path): TemplateScope => {
  const name = path.basename(file.path)
  const ext = path.extname(name)
  return { path: file.relative, name, stem: ext ? name.slice(0, -ext.length) : name, ext: ext.replace(/^\./, "") }
}

/** The variables naming a job's files (see `fileVars`), offered to output paths, scripts and overlay texts. */
const fileVarNames = (role: "image" | "audio") => ["path", "name", "stem", "ext"].map((field) => `${role}.${field}`)
const imageVarNames = fileVarNames("image")
const audioVarNames = fileVarNames("audio")

const varsScope = (vars: Readonly<Record<string, string | number>> | undefined): TemplateScope =>
  Object.fromEntries(Object.entries(vars ?? {}).map(([k, v]) => [k, String(v)]))

/** What the expansion made, and every problem it found. */
export interface ExpandedPipeline {
  /** The jobs it could make. */
  readonly jobs: ReadonlyArray<Job>
  /**
   * The input files of every job it could resolve the inputs of, including jobs left out
   * because another of their templates is broken: they are read with the others. Each file once
   * per role: first the jobs' (as the first job reading it names it), then the others' (as first
   * named), the order their problems are reported in.
   */
  readonly inputs: ReadonlyArray<WantedInput>
  readonly diagnostics: ReadonlyArray<Diagnostic>
}

/** Sets → jobs; fails with every problem found. */
export const expandPipeline = (
  pipeline: LoadedPipeline
): Effect.Effect<ReadonlyArray<Job>, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(expandPipelineAll(pipeline), ({ jobs, diagnostics }) =>
    diagnostics.length > 0 ? Effect.fail(new PipelineInvalid({ diagnostics })) : Effect.succeed(jobs)
  )

/** Sets → jobs, the inputs to read and every problem found; never fails. */
export const expandPipelineAll = (pipeline: LoadedPipeline): Effect.Effect<ExpandedPipeline, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const { source, spec } = pipeline
    const diagnostics: Array<Diagnostic> = []
    /**
     * Problems of outputs, reported after all those of the expansion (as when every job was made
     * before any output was placed): each job is placed as soon as it is made, so that nothing but
     * the jobs is kept.
     */
    const outputDiagnostics: Array<Diagnostic> = []
    type Report = (origin: Origin, message: string) => void
    const report: Report = (origin, message) => diagnostics.push({ ...origin, message })
    const reportOutput: Report = (origin, message) => outputDiagnostics.push({ ...origin, message })
    const originOf = (yamlPath: ReadonlyArray<PathSegment>): Origin => ({ file: source.file, ...locate(source, yamlPath) })
    const vars = varsScope(spec.vars)
    const varNames = Object.keys(vars).map((name) => `vars.${name}`)
    // Rows name few distinct files: each path is resolved, made relative and split into its
    // template variables once, and the strings are shared by every job that names it.
    const memo = <V>(compute: (key: string) => V) => {
      const known = new Map<string, V>()
      return (key: string): V => {
        const found = known.get(key)
        if (found !== undefined) return found
        const value = compute(key)
        known.set(key, value)
        return value
      }
    }
    const relative = memo((absolute) => path.relative(pipeline.dir, absolute).split(path.sep).join("/"))
    const resolved = memo((rendered) => path.resolve(pipeline.dir, rendered))
    const varsOfFile = memo((absolute) => fileVars({ path: absolute, relative: relative(absolute) }, path))

    /** Parses a template and checks its variables against those that exist where it is used. */
    const compile = (
      yamlPath: ReadonlyArray<PathSegment>,
      text: string,
      allowed: ReadonlyArray<string>,
      say: Report = report
    ): CompiledTemplate | undefined => {
      const at = (offset: number): Origin => ({ file: source.file, ...locateInString(source, yamlPath)(offset) })
      const parsed = parseTemplate(text)
      if (Either.isLeft(parsed)) {
        parsed.left.forEach((e) => say(at(e.span.start), e.message))
        return undefined
      }
      const unknown = checkVariables(parsed.right, allowed)
      unknown.forEach((e) => say(at(e.span.start), e.message))
      return unknown.length > 0 ? undefined : { template: parsed.right, yamlPath, origin: originOf(yamlPath), at }
    }

    const renderErrors = new Map<CompiledTemplate, number>()
    /** Renders a path template; errors caused by data are reported at the data's place when known. */
    const renderPath = (
      compiled: CompiledTemplate,
      scope: TemplateScope,
      row: DataRow | undefined,
      say: Report = report
    ): string | undefined => {
      const rendered = renderTemplate(compiled.template, scope, { pathSafe: true })
      if (Either.isRight(rendered)) return rendered.right
      const count = (renderErrors.get(compiled) ?? 0) + 1
      renderErrors.set(compiled, count)
      if (count <= maxRenderErrorsPerTemplate) {
        for (const e of rendered.left) {
          const templateAt = compiled.at(e.span.start)
          if (row) {
            say(row.origin, `${e.message} (in the template at ${templateAt.file}:${templateAt.line}:${templateAt.column})`)
          } else {
            say(templateAt, e.message)
          }
        }
      } else if (count === maxRenderErrorsPerTemplate + 1) {
        say(compiled.origin, `more jobs fail to render this template; fix the errors above first`)
      }
      return undefined
    }

    /** A path or glob → the files it names, in sorted order; a miss is reported at the pattern. */
    const resolveFiles = (yamlPath: ReadonlyArray<PathSegment>, text: string) =>
      Effect.gen(function* () {
        const compiled = compile(yamlPath, text, varNames)
        if (!compiled) return []
        const pattern = renderPath(compiled, { vars }, undefined)
        if (pattern === undefined) return []
        if (!isDynamicPattern(pattern)) return [path.resolve(pipeline.dir, pattern)]
        const matches = yield* Effect.promise(() =>
          glob(pattern, { cwd: pipeline.dir, onlyFiles: true, expandDirectories: false, absolute: true })
        )
        if (matches.length === 0) report(compiled.origin, `the glob "${pattern}" matches no file (relative to ${pipeline.file}'s folder)`)
        return matches.map((m) => path.normalize(m)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      })

    const input = (absolute: string, origin: Origin): InputFile => ({ path: absolute, relative: relative(absolute), origin })
    /** The inputs of every would-be job, made or not: all are read, so a broken template hides no bad input. */
    // Each file once per role, as first named: reading keeps only the first anyway.
    const wanted: Array<WantedInput> = []
    const wantedPaths = { image: new Set<string>(), audio: new Set<string>() }
    const wants = (image: InputFile | undefined, audio: InputFile | undefined) => {
      if (image && !wantedPaths.image.has(image.path)) {
        wantedPaths.image.add(image.path)
        wanted.push({ file: image, role: "image" })
      }
      if (audio && !wantedPaths.audio.has(audio.path)) {
        wantedPaths.audio.add(audio.path)
        wanted.push({ file: audio, role: "audio" })
      }
    }
    /** The files the jobs read, each once per role, as its first job names it: read (and reported) first. */
    const jobInputs: Array<WantedInput> = []
    const jobPaths = { image: new Set<string>(), audio: new Set<string>() }
    const jobReads = (file: InputFile, role: "image" | "audio") => {
      if (jobPaths[role].has(file.path)) return
      jobPaths[role].add(file.path)
      jobInputs.push({ file, role })
    }

    const speaks = (set: SetSpec | undefined) => set !== undefined && "speech" in set && set.speech !== undefined
    const outputAllowed = (setName: string, withRow: ReadonlyArray<string>) => {
      const set = spec.sets[setName]
      return [
        "set",
        "index",
        // A spoken voice track has no file name to borrow.
        ...imageVarNames,
        ...(speaks(set) ? [] : audioVarNames),
        ...(set && "overlays" in set && set.overlays ? ["overlay.index", "overlay.text"] : []),
        ...varNames,
        ...withRow
      ]
    }

    const outputTemplateFor = (setName: string, override: ReadonlyArray<PathSegment> | undefined, rowColumns: ReadonlyArray<string>) => {
      const set = spec.sets[setName]
      const [yamlPath, text] =
        override !== undefined
          ? [override, String(source.doc.getIn(override))]
          : set?.output !== undefined
            ? [["sets", setName, "output"], set.output]
            : spec.output !== undefined
              ? [["output"], spec.output]
              : [[], speaks(set) ? defaultSpeechOutputTemplate : defaultOutputTemplate]
      return compile(yamlPath, text, outputAllowed(setName, rowColumns))
    }

    /** Templates that are not paths (scripts, voices, overlay texts): rendered as they are. */
    const renderText = (
      compiled: CompiledTemplate,
      scope: TemplateScope,
      row: DataRow | undefined,
      say: Report = report
    ): string | undefined => {
      const rendered = renderTemplate(compiled.template, scope, { pathSafe: false })
      if (Either.isRight(rendered)) return rendered.right
      for (const e of rendered.left) {
        const templateAt = compiled.at(e.span.start)
        if (row) say(row.origin, `${e.message} (in the template at ${templateAt.file}:${templateAt.line}:${templateAt.column})`)
        else say(templateAt, e.message)
      }
      return undefined
    }

    /**
     * The set's speech templates, compiled once. In every kind of set they know the job's image
     * (`image.*`), the vars and the row's columns (`rowNames`, for rows); never `audio.*`: the
     * voice track is what they make.
     */
    const speechOf = (setName: string, rowNames: ReadonlyArray<string>) => {
      const set = spec.sets[setName]
      if (!set || !("speech" in set) || !set.speech) return undefined
      const at = ["sets", setName, "speech"]
      const allowed = ["set", "index", ...imageVarNames, ...varNames, ...rowNames]
      const voice = compile([...at, "voice"], set.speech.voice, allowed)
      const text = compile([...at, "text"], set.speech.text, allowed)
      return voice && text ? { voice, text, model: set.speech.model ?? "mirage-audio-1" } : null
    }

    /**
     * A spoken voice track for one job; a script over the API's limit is reported at its row, or
     * (without a row) at the template, naming the job's image when `image` is given (a matrix).
     */
    const renderSpeech = (
      compiled: { voice: CompiledTemplate; text: CompiledTemplate; model: string },
      scope: TemplateScope,
      row: DataRow | undefined,
      image?: InputFile
    ): SpeechSpec | undefined => {
      const voice = renderText(compiled.voice, scope, row)
      const text = renderText(compiled.text, scope, row)
      if (voice === undefined || text === undefined) return undefined
      const where = (template: CompiledTemplate): Origin => (row ? row.origin : template.origin)
      const about = image ? ` for image "${image.relative}"` : ""
      if (text.trim() === "")
        return void report(where(compiled.text), `the speech script renders empty${about}: the provider cannot speak it`)
      if (voice.trim() === "") return void report(where(compiled.voice), `the speech voice renders empty${about}`)
      if (text.length > limits.maxSpeechChars) {
        const at = compiled.text.origin
        return void report(
          where(compiled.text),
          `the speech script${about} is ${text.length} characters, over the API's ${limits.maxSpeechChars} (the template at ${at.file}:${at.line}:${at.column})`
        )
      }
      return { voice, text, model: compiled.model }
    }

    /** Files the pipeline reads besides the jobs' inputs: outputs may not overwrite them either. */
    const dataFiles: Array<GuardedFile> = []

    const expandPairs = (name: string, set: PairsSet) =>
      Effect.gen(function* () {
        const inputAllowed = ["set", "index", ...varNames]
        const speech = speechOf(name, [])
        for (const [i, pair] of set.pairs.entries()) {
          const at = ["sets", name, "pairs", i]
          const scope = { set: name, index: i, vars }
          if (pair.audio === undefined && !set.speech) {
            report(originOf(at), `this pair has no audio: give it \`audio\`, or give the set \`speech\``)
            continue
          }
          const image = compile([...at, "image"], pair.image, inputAllowed)
          const audio = pair.audio !== undefined ? compile([...at, "audio"], pair.audio, inputAllowed) : undefined
          const output = outputTemplateFor(name, pair.output !== undefined ? [...at, "output"] : undefined, [])
          const imagePath = image && renderPath(image, scope, undefined)
          const audioPath = audio && renderPath(audio, scope, undefined)
          // The script may name the pair's image: a pair whose image does not resolve is reported
          // for that alone, its script left unrendered.
          if (imagePath === undefined) continue
          const imageFile = input(resolved(imagePath), originOf([...at, "image"]))
          const audioFile = audioPath !== undefined ? input(resolved(audioPath), originOf([...at, "audio"])) : undefined
          wants(imageFile, audioFile)
          const spoken =
            pair.audio === undefined && speech
              ? renderSpeech(speech, { ...scope, image: varsOfFile(imageFile.path) }, undefined, imageFile)
              : undefined
          if (!output || (audioFile === undefined && spoken === undefined)) continue
          const emitted = emit({
            set: name,
            index: i,
            image: imageFile,
            ...(audioFile !== undefined ? { audio: audioFile } : {}),
            ...(spoken ? { speech: spoken } : {}),
            origin: originOf(at),
            outputTemplate: output
          })
          if (emitted) yield* emitted
        }
      })

    const expandMatrix = (name: string, set: MatrixSet) =>
      Effect.gen(function* () {
        const at = ["sets", name]
        const listOf = (role: "image" | "audio") => {
          const value = set.matrix[role]
          return value === undefined
            ? []
            : typeof value === "string"
              ? [{ yamlPath: [...at, "matrix", role], text: value }]
              : value.map((text, i) => ({ yamlPath: [...at, "matrix", role, i], text }))
        }
        const collect = (role: "image" | "audio") =>
          Effect.forEach(listOf(role), ({ yamlPath, text }) =>
            Effect.map(resolveFiles(yamlPath, text), (files) => files.map((file) => input(file, originOf(yamlPath))))
          ).pipe(Effect.map((lists) => lists.flat()))
        const images = yield* collect("image")
        const audios = yield* collect("audio")
        if ((set.matrix.audio === undefined) === (set.speech === undefined)) {
          return void report(originOf(at), `set "${name}" needs exactly one of matrix.audio (files) or speech (a script)`)
        }
        // A spoken matrix is its images alone: one job each, the voice track made from the script.
        const spoken = set.speech !== undefined
        const excludes = yield* Effect.forEach(set.exclude ?? [], (entry, i) =>
          Effect.gen(function* () {
            const entryPath = [...at, "exclude", i]
            if (spoken && entry.audio !== undefined) {
              report(
                { file: source.file, ...locate(source, [...entryPath, "audio"], "key") },
                `set "${name}" speaks its voice track (speech), so it has no audio files to leave out: an exclude entry here names image only`
              )
              return { origin: originOf(entryPath), image: undefined, audio: undefined, used: false }
            }
            if (entry.image === undefined && entry.audio === undefined) {
              report(originOf(entryPath), spoken ? "an exclude entry needs image" : "an exclude entry needs image, audio or both")
            }
            const files = (role: "image" | "audio") => {
              const text = entry[role]
              return text === undefined
                ? Effect.succeed(undefined)
                : Effect.map(resolveFiles([...entryPath, role], text), (f) => new Set(f))
            }
            return { origin: originOf(entryPath), image: yield* files("image"), audio: yield* files("audio"), used: false }
          })
        )
        const speech = spoken ? speechOf(name, []) : undefined
        const output = outputTemplateFor(name, undefined, [])
        // Without audios (a spoken matrix), each image is one combination of its own.
        const voices: ReadonlyArray<InputFile | undefined> = spoken ? [undefined] : audios
        const origin = originOf([...at, "matrix"])
        let index = 0
        for (const image of images) {
          for (const audio of voices) {
            const excluded = excludes.filter(
              (e) =>
                (e.image !== undefined || e.audio !== undefined) &&
                (e.image?.has(image.path) ?? true) &&
                (e.audio === undefined || (audio !== undefined && e.audio.has(audio.path)))
            )
            excluded.forEach((e) => (e.used = true))
            if (excluded.length > 0) continue
            wants(image, audio)
            if (!output || speech === null) continue
            const scope: TemplateScope = { set: name, index, vars }
            const voice = speech ? renderSpeech(speech, { ...scope, image: varsOfFile(image.path) }, undefined, image) : undefined
            if (audio === undefined && voice === undefined) continue
            const emitted = emit({
              set: name,
              index,
              image,
              ...(audio !== undefined ? { audio } : {}),
              ...(voice !== undefined ? { speech: voice } : {}),
              origin,
              outputTemplate: output
            })
            if (emitted) yield* emitted
            index++
          }
        }
        for (const e of excludes) {
          if (!e.used && (e.image !== undefined || e.audio !== undefined)) {
            report(e.origin, "this exclude entry matches no job of the matrix: check its paths")
          }
        }
      })

    const expandRows = (name: string, set: RowsSet) =>
      Effect.gen(function* () {
        const at = ["sets", name]
        const rowsAt = originOf([...at, "rows"])
        const dataFile = path.resolve(pipeline.dir, set.rows)
        const type = yield* fs.stat(dataFile).pipe(
          Effect.map((info) => info.type),
          Effect.orElseSucceed(() => undefined)
        )
        let data: DataRows | undefined
        if (type === "Directory") {
          report(rowsAt, `data file "${set.rows}" is a folder, not a file: name the CSV, JSON or YAML file`)
        } else if (type !== "File") {
          const close = yield* closeExistingFile(dataFile, set.rows)
          const hint = close === undefined ? "" : `; did you mean "${close}"?`
          report(rowsAt, `data file "${set.rows}" not found (relative to ${pipeline.file}'s folder${hint})`)
        } else {
          dataFiles.push({ path: dataFile, what: `the data file of set "${name}" (${rowsAt.file}:${rowsAt.line}:${rowsAt.column})` })
          // Named like the pipeline file is: relative to where clapper runs, when it is below it.
          const fromCwd = path.relative(process.cwd(), dataFile)
          const shownAs = fromCwd.startsWith("..") || path.isAbsolute(fromCwd) ? dataFile : fromCwd
          data = yield* readDataRows(dataFile, shownAs).pipe(
            Effect.catchAll((errors) => {
              diagnostics.push(...errors)
              return Effect.succeed(undefined)
            })
          )
          if (data && data.rows.length === 0) report(rowsAt, `data file "${set.rows}" has no rows`)
        }
        // Without the data's columns the templates are still checked, any row.<column> taken on trust.
        const rowNames = data ? data.columns.map((column) => `row.${column}`) : ["row.*"]
        const inputAllowed = ["set", "index", ...varNames, ...rowNames]
        const image = compile([...at, "image"], set.image, inputAllowed)
        const audio = set.audio !== undefined ? compile([...at, "audio"], set.audio, inputAllowed) : undefined
        const output = outputTemplateFor(name, undefined, rowNames)
        if ((set.audio === undefined) === (set.speech === undefined)) {
          return void report(originOf(at), `set "${name}" needs exactly one of audio (a file per row) or speech (a script per row)`)
        }
        const speech = speechOf(name, rowNames)
        if (!data || !image) return
        const rows = data.rows
        for (let index = 0; index < rows.length; index++) {
          const row = rows[index]
          if (row === undefined) continue
          const scope: TemplateScope = { set: name, index, vars, row: row.values }
          const imagePath = renderPath(image, scope, row)
          const audioPath = audio ? renderPath(audio, scope, row) : undefined
          // The script may name the row's image: a row whose image does not resolve is reported
          // for that alone, its script left unrendered.
          if (imagePath === undefined) continue
          const origin = row.origin
          const imageFile = input(resolved(imagePath), origin)
          const audioFile = audioPath !== undefined ? input(resolved(audioPath), origin) : undefined
          wants(imageFile, audioFile)
          // Made only when every template of the set is sound (the inputs are read either way).
          if (!output || (set.audio !== undefined ? audioFile === undefined : !speech)) continue
          const spoken = speech ? renderSpeech(speech, { ...scope, image: varsOfFile(imageFile.path) }, row) : undefined
          if (audioFile === undefined && spoken === undefined) continue
          const emitted = emit(
            audioFile !== undefined && !spoken
              ? {
                  set: name,
                  index,
                  image: imageFile,
                  audio: audioFile,
                  origin,
                  outputTemplate: output,
                  row,
                  rowColumns: data.columns
                }
              : {
                  set: name,
                  index,
                  image: imageFile,
                  ...(audioFile !== undefined ? { audio: audioFile } : {}),
                  ...(spoken ? { speech: spoken } : {}),
                  origin,
                  outputTemplate: output,
                  row,
                  rowColumns: data.columns
                }
          )
          if (emitted) yield* emitted
        }
      })

    // Outputs: rendered, inside the project root (symlinks resolved), one job each.
    const realRoot = yield* realLocation(pipeline.projectRoot)
    const jobs: Array<Job> = []
    const byOutput = new Map<string, Job>()
    /** Per set: overlay variant templates and the captions output template, compiled once. */
    const stagesBySet = new Map<
      string,
      {
        overlays: ReadonlyArray<{ compiled: CompiledTemplate; variant: Omit<OverlaySpec, "index" | "text"> }> | undefined
        captionsOutput: CompiledTemplate | undefined
        /** The set's captioning, one object for all its jobs. */
        captions: { readonly template: string } | undefined
      }
    >()
    const stagesOf = (setName: string, rowColumns: ReadonlyArray<string>) => {
      const known = stagesBySet.get(setName)
      if (known) return known
      const set = spec.sets[setName]
      const at = ["sets", setName]
      const overlays =
        set && "overlays" in set && set.overlays
          ? set.overlays.flatMap((variant, i) => {
              // The text may name the job's files, like its output path: image.*, and audio.* unless spoken.
              const files = [...imageVarNames, ...(speaks(set) ? [] : audioVarNames)]
              const compiled = compile(
                [...at, "overlays", i, "text"],
                variant.text,
                ["set", "index", ...files, ...varNames, ...rowColumns],
                reportOutput
              )
              const style = {
                ...(variant.font !== undefined ? { font: variant.font } : {}),
                ...(variant.size !== undefined ? { size: variant.size } : {}),
                ...(variant.color !== undefined ? { color: variant.color } : {})
              }
              return compiled ? [{ compiled, variant: style }] : []
            })
          : undefined
      const captionsOutput =
        set && "captions" in set && set.captions?.output !== undefined
          ? compile([...at, "captions", "output"], set.captions.output, outputAllowed(setName, rowColumns), reportOutput)
          : undefined
      const captions = set && "captions" in set && set.captions ? { template: set.captions.template } : undefined
      const stages = { overlays, captionsOutput, captions }
      stagesBySet.set(setName, stages)
      return stages
    }

    // Outputs share few folders: resolve each folder's symlinks once. (The file itself is replaced
    // by a rename, which never writes through a link, so its folder is what must stay inside.)
    const realFolders = new Map<string, OutputDir>()

    /** Every output placed, with the template and text it came from: checked against the disk below. */
    const placed: Array<{
      readonly job: Job
      readonly rendered: string
      readonly template: CompiledTemplate
    }> = []
    /** Problems of a path rendered from data are reported at the template, naming the row. */
    const fromRow = (row: Origin | undefined) => (row ? ` (from the row at ${row.file}:${row.line}:${row.column})` : "")

    /** A job at `output` (rendered from `template` as `rendered`), in the folder `dir`. */
    const placeAt = (
      draft: Draft,
      template: CompiledTemplate,
      extra: Partial<Pick<Job, "captions" | "overlay">>,
      rendered: string,
      output: string,
      dir: OutputDir
    ): void => {
      // In a folder inside the root every file is: the path is written out only when it must be compared.
      const real = dir.root === "inside" ? undefined : joinName(dir.real, path.basename(output), path)
      if (real !== undefined && !isInsideThrough(dir.root, realRoot, real, path)) {
        const root = describeProjectRoot({ root: pipeline.projectRoot, marker: pipeline.projectRootMarker })
        reportOutput(
          template.origin,
          `output "${rendered}" resolves to ${real}, outside the project root ${pipeline.projectRoot}: outputs must stay inside it. ${root}`
        )
        return
      }
      const id = plainPathBelow(pipeline.projectRoot, output, path) ?? path.relative(pipeline.projectRoot, output).split(path.sep).join("/")
      const tooLong = outputNameProblem(id)
      if (tooLong !== undefined) {
        return void reportOutput(template.origin, `output "${shorten(rendered, 80)}": ${tooLong}${fromRow(draft.row?.origin)}`)
      }
      const job = jobAt(draft, extra, id, output)
      const clash = byOutput.get(output)
      if (clash) {
        const describe = (j: Job) =>
          `set "${j.set}" job ${j.index} (${j.image.relative} + ${j.audio?.relative ?? "speech"}${j.overlay ? `, overlay ${j.overlay.index}` : ""})`
        const first = `${clash.origin.file}:${clash.origin.line}:${clash.origin.column}`
        reportOutput(
          draft.origin,
          `two jobs write "${id}": ${describe(job)} and ${describe(clash)} at ${first}; make the output template tell them apart`
        )
        return
      }
      byOutput.set(output, job)
      jobs.push(job)
      jobReads(job.image, "image")
      if (job.audio) jobReads(job.audio, "audio")
      placed.push({ job, rendered, template })
    }

    /** Renders and places one output; an Effect only when its folder's real location is not known yet. */
    const place = (
      draft: Draft,
      template: CompiledTemplate,
      scope: TemplateScope,
      extra: Partial<Pick<Job, "captions" | "overlay">>
    ): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path> | undefined => {
      const rendered = renderPath(template, scope, draft.row, reportOutput)
      if (rendered === undefined) return undefined
      const output = resolveBelow(pipeline.dir, rendered, path)
      const dir = path.dirname(output)
      const known = realFolders.get(dir)
      if (known !== undefined) return void placeAt(draft, template, extra, rendered, output, known)
      return Effect.map(realLocation(dir), (real) => {
        const made: OutputDir = { real, root: folderRelation(realRoot, real, path) }
        realFolders.set(dir, made)
        placeAt(draft, template, extra, rendered, output, made)
      })
    }

    // No output may overwrite what the pipeline reads or what Clapper keeps.
    // No output may overwrite what the pipeline reads or what Clapper keeps: its inputs, each file
    // once, named by the first job that reads it (as the guard would keep it).
    const where = (origin: Origin) => `${origin.file}:${origin.line}:${origin.column}`
    const inputs: Array<GuardedFile> = []
    const guardedPaths = new Set<string>()
    const guardInput = (file: InputFile, role: "image" | "audio", draft: Draft) => {
      if (guardedPaths.has(file.path)) return
      guardedPaths.add(file.path)
      inputs.push({ path: file.path, what: `the input ${role} of set "${draft.set}" job ${draft.index} (${where(file.origin)})` })
    }

    /**
     * A job as it is made: its outputs rendered and placed. An Effect only when there is more to
     * do than placing one output in a folder already seen (a new folder, captions, overlays).
     */
    const emit = (draft: Draft): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path> | undefined => {
      guardInput(draft.image, "image", draft)
      if (draft.audio) guardInput(draft.audio, "audio", draft)
      const stages =
        stagesBySet.get(draft.set) ?? stagesOf(draft.set, draft.row ? Object.keys(draft.row.values).map((c) => `row.${c}`) : [])
      const image = varsOfFile(draft.image.path)
      // Written out, in the order messages list the variables in (set, index, vars, row, image, audio): a spread is slower.
      const { set, index, row } = draft
      const audio = draft.audio ? varsOfFile(draft.audio.path) : undefined
      const scope: TemplateScope =
        row === undefined
          ? audio === undefined
            ? { set, index, vars, image }
            : { set, index, vars, image, audio }
          : audio === undefined
            ? { set, index, vars, row: row.values, image }
            : { set, index, vars, row: row.values, image, audio }
      const captions = stages.captions ? { captions: stages.captions } : {}
      if (!stages.captionsOutput && !stages.overlays) return place(draft, draft.outputTemplate, scope, captions)
      return Effect.gen(function* () {
        // With a captions output of its own, the plain video is kept too, at the set's output.
        if (stages.captionsOutput) {
          const placing = place(draft, draft.outputTemplate, scope, {})
          if (placing) yield* placing
        }
        const finalTemplate = stages.captionsOutput ?? draft.outputTemplate
        if (!stages.overlays) {
          const placing = place(draft, finalTemplate, scope, captions)
          if (placing) yield* placing
          return
        }
        for (const [index, { compiled, variant }] of stages.overlays.entries()) {
          const text = renderText(compiled, scope, draft.row, reportOutput)
          if (text === undefined) continue
          if (text.trim() === "") {
            reportOutput(draft.row ? draft.row.origin : compiled.origin, `overlay ${index} renders empty`)
            continue
          }
          const placing = place(
            draft,
            finalTemplate,
            { ...scope, overlay: { index, text } },
            { ...captions, overlay: { index, text, ...variant } }
          )
          if (placing) yield* placing
        }
      })
    }

    for (const [name, set] of Object.entries(spec.sets)) {
      if ("pairs" in set) yield* expandPairs(name, set)
      else if ("matrix" in set) yield* expandMatrix(name, set)
      else yield* expandRows(name, set)
    }

    const guard = yield* makeOutputGuard({
      files: [
        { path: pipeline.path, what: "this pipeline file" },
        {
          path: lockFilePath(pipeline.path),
          what: "this pipeline's lock file",
          why: "it records what each output was rendered from; choose another output path",
          byPathOnly: true
        },
        ...dataFiles,
        ...inputs
      ],
      stateDir: stateDir(pipeline.dir, spec.name, path)
    })
    const problems = yield* guard.problems(placed.map(({ job }) => job.output))
    placed.forEach(({ rendered, template, job }, i) => {
      const problem = problems[i]
      if (problem !== undefined)
        reportOutput(template.origin, `output "${rendered}" ${problem}${fromRow(job.row ? job.origin : undefined)}`)
    })
    const others = wanted.filter(({ file, role }) => !jobPaths[role].has(file.path))
    return { jobs, inputs: [...jobInputs, ...others], diagnostics: [...diagnostics, ...outputDiagnostics] }
  })
