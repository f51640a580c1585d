/** A job: one render, from one image and one audio to one output file. */
import type { Position } from "./yamlSource.ts"

/** A place in one of the user's files (the pipeline, or a data file for `rows` sets). */
export interface Origin extends Position {
  readonly file: string
}

export interface InputFile {
  /** Absolute path. */
  readonly path: string
  /** Path relative to the pipeline's folder, with `/` separators: `{{image.path}}`. */
  readonly relative: string
  /** Where in the pipeline (or data file) this input was named. */
  readonly origin: Origin
}

/** Text-to-speech that makes the job's voice track (instead of an audio file). */
export interface SpeechSpec {
  readonly voice: string
  readonly text: string
  readonly model: string
}

/** One text overlay variant: each is its own job and output. */
export interface OverlaySpec {
  /** Position among the set's variants, from 0. */
  readonly index: number
  readonly text: string
  readonly font?: string
  readonly size?: number
  readonly color?: string
}

export interface Job {
  /** The job's identity: its output path relative to the project root, with `/` separators. */
  readonly id: string
  readonly set: string
  /** Position of the job within its set, from 0. */
  readonly index: number
  readonly image: InputFile
  /** The voice track, unless `speech` makes it. */
  readonly audio?: InputFile
  readonly speech?: SpeechSpec
  /** Caption template applied to the generated video. */
  readonly captions?: { readonly template: string }
  readonly overlay?: OverlaySpec
  /** Absolute output path, inside the project root. */
  readonly output: string
  /** The pair entry, matrix or data row the job comes from. */
  readonly origin: Origin
  /** Row values for `rows` sets (already part of the rendered paths; kept for reports). */
  readonly row?: Readonly<Record<string, string>>
  /**
   * For `rows` sets: the data file's column names in file order (`row`'s keys are not: an object
   * puts integer-like names such as "2024" first). One array shared by every job of the set.
   */
  readonly rowColumns?: ReadonlyArray<string>
}
