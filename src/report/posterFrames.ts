/**
 * A poster frame per output video, for the report's gallery: one small JPEG taken with the ffmpeg
 * binary of `@ffmpeg-installer/ffmpeg` (the one the simulator renders with), kept in the
 * pipeline's state folder by the output's SHA-256 (`.clapper/<name>/posters/<sha256>.jpg`), so a
 * second report of the same videos runs ffmpeg for none of them. Optional at run time: without a
 * usable ffmpeg, or for a file ffmpeg cannot read, the answer is a reason, never a failure.
 */
import { Command, FileSystem, Path } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform"
import { Effect, Option, Stream } from "effect"
import { randomBytes } from "node:crypto"

export type PosterFrame =
  | { readonly _tag: "Frame"; readonly jpeg: Uint8Array; readonly cached: boolean }
  | { readonly _tag: "NoFrame"; readonly reason: string }

export interface PosterFrames {
  /** The ffmpeg binary in use, or why there is none. */
  readonly engine: { readonly _tag: "Ffmpeg"; readonly path: string } | { readonly _tag: "None"; readonly reason: string }
  /** The poster of `video`, whose digest is `sha256` (the cache's key). Never fails. */
  readonly poster: (video: string, sha256: string) => Effect.Effect<PosterFrame>
}

export interface PosterOptions {
  /** Where posters are kept (`.clapper/<name>/posters`). */
  readonly cacheDir: string
  /**
   * The ffmpeg binary: absent for the bundled one (`@ffmpeg-installer/ffmpeg`), a path for another,
   * `false` for none (every tile is a placeholder).
   */
  readonly ffmpeg?: string | false | undefined
}

/** The poster's width in pixels: sharp on a high-density screen in a gallery tile, about 10 kB. */
const posterWidth = 240
/** ffmpeg's whole run for one poster, at most: a damaged file must not hold the report up. */
const extractionTimeout = "60 seconds"

interface FfmpegRun {
  readonly code: number
  /** The end of what it wrote on stderr: the reason, when it failed. */
  readonly stderr: string
}

const runFfmpeg = (binary: string, args: ReadonlyArray<string>): Effect.Effect<FfmpegRun, unknown, CommandExecutor.CommandExecutor> =>
  Effect.scoped(
    Effect.gen(function* () {
      const process = yield* Command.start(Command.make(binary, ...args))
      const [code, stderr] = yield* Effect.all(
        [
          process.exitCode,
          process.stderr.pipe(
            Stream.decodeText(),
            Stream.runFold("", (kept, text) => (kept + text).slice(-2000))
          ),
          Stream.runDrain(process.stdout)
        ],
        { concurrency: "unbounded" }
      )
      return { code, stderr }
    })
  )

/** The bundled binary, when its package loads on this platform and the binary runs. */
const bundledFfmpeg: Effect.Effect<string | undefined> = Effect.tryPromise(() => import("@ffmpeg-installer/ffmpeg")).pipe(
  Effect.map(({ default: installer }) => installer.path),
  Effect.orElseSucceed(() => undefined)
)

const usable = (binary: string): Effect.Effect<boolean, never, CommandExecutor.CommandExecutor> =>
  runFfmpeg(binary, ["-hide_banner", "-version"]).pipe(
    Effect.map((run) => run.code === 0),
    Effect.timeout("10 seconds"),
    Effect.orElseSucceed(() => false)
  )

/** ffmpeg's last meaningful line, for a person: `Invalid data found when processing input`. */
const lastLine = (stderr: string): string => {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
  const line = lines.at(-1) ?? "no output"
  // ffmpeg prefixes a line with the file it was reading: the tile already says which.
  return line.replace(/^\S+:\s+(?=\S)/, "").slice(0, 200)
}

const frameArgs = (video: string, output: string, seekSeconds: number | undefined): ReadonlyArray<string> => [
  "-hide_banner",
  "-nostdin",
  "-loglevel",
  "error",
  "-y",
  ...(seekSeconds === undefined ? [] : ["-ss", String(seekSeconds)]),
  "-i",
  video,
  "-frames:v",
  "1",
  "-vf",
  `scale=${posterWidth}:-2`,
  "-q:v",
  "5",
  "-f",
  "mjpeg",
  output
]

export const makePosterFrames = (
  options: PosterOptions
): Effect.Effect<PosterFrames, never, FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const context = yield* Effect.context<CommandExecutor.CommandExecutor>()

    const wanted = options.ffmpeg === false ? undefined : (options.ffmpeg ?? (yield* bundledFfmpeg))
    const engine: PosterFrames["engine"] =
      options.ffmpeg === false
        ? { _tag: "None", reason: "posters were turned off" }
        : wanted === undefined
          ? { _tag: "None", reason: "ffmpeg is not installed (the @ffmpeg-installer/ffmpeg package has no binary for this platform)" }
          : (yield* usable(wanted))
            ? { _tag: "Ffmpeg", path: wanted }
            : { _tag: "None", reason: `ffmpeg at ${wanted} does not run` }

    const readJpeg = (file: string) =>
      fs.readFile(file).pipe(
        Effect.map(Option.some),
        Effect.orElseSucceed(() => Option.none<Uint8Array>())
      )

    /** One extraction into `file`: a frame half a second in (past a fade-in), else the first. */
    const extract = (binary: string, video: string, file: string) =>
      Effect.gen(function* () {
        let last: FfmpegRun = { code: 1, stderr: "" }
        for (const seek of [0.5, undefined]) {
          last = yield* runFfmpeg(binary, frameArgs(video, file, seek)).pipe(
            Effect.timeoutFail({ duration: extractionTimeout, onTimeout: () => "timed out" }),
            Effect.catchAll((e) => Effect.succeed({ code: 1, stderr: typeof e === "string" ? `ffmpeg ${e}` : "ffmpeg did not start" })),
            Effect.provide(context)
          )
          const size = yield* fs.stat(file).pipe(
            Effect.map((info) => Number(info.size)),
            Effect.orElseSucceed(() => 0)
          )
          if (last.code === 0 && size > 0) return undefined
        }
        return `ffmpeg could not read it (${lastLine(last.stderr)})`
      })

    const poster = (video: string, sha256: string): Effect.Effect<PosterFrame> =>
      Effect.gen(function* () {
        if (engine._tag === "None") return { _tag: "NoFrame", reason: engine.reason } as const
        const cached = path.join(options.cacheDir, `${sha256}.jpg`)
        const hit = yield* readJpeg(cached)
        if (Option.isSome(hit) && hit.value.length > 0) return { _tag: "Frame", jpeg: hit.value, cached: true } as const
        // Written beside its final name, then renamed: a stopped report leaves no half poster.
        // A state folder that cannot be written costs the cache, not the poster.
        const cacheable = yield* fs.makeDirectory(options.cacheDir, { recursive: true }).pipe(
          Effect.as(true),
          Effect.orElseSucceed(() => false)
        )
        const scratchDir = cacheable
          ? options.cacheDir
          : yield* fs.makeTempDirectoryScoped().pipe(Effect.orElseSucceed(() => options.cacheDir))
        const scratch = path.join(scratchDir, `${sha256}.jpg.${randomBytes(6).toString("hex")}.part`)
        const problem = yield* extract(engine.path, video, scratch)
        const bytes = problem === undefined ? yield* readJpeg(scratch) : Option.none<Uint8Array>()
        if (problem === undefined && cacheable && Option.isSome(bytes)) yield* fs.rename(scratch, cached).pipe(Effect.ignore)
        yield* fs.remove(scratch).pipe(Effect.ignore)
        if (Option.isNone(bytes)) return { _tag: "NoFrame", reason: problem ?? "ffmpeg wrote no frame" } as const
        return { _tag: "Frame", jpeg: bytes.value, cached: false } as const
      }).pipe(Effect.scoped)

    const frames: PosterFrames = { engine, poster }
    return frames
  })
