/**
 * The pipeline file format, version 1 (DESIGN.md, "The pipeline file"), as Effect Schemas.
 *
 * These schemas are the single source of the format: decoding, `clapper schema` (JSON Schema for
 * editors and CI) and the README's field reference all come from them, so every field carries a
 * description.
 */
import { Duration, ParseResult, Schema } from "effect"
import { parseStateUrl } from "../state/postgres/stateUrl.ts"
import { parseRate, publishedQuotas, rateText, requestKinds, unpublishedDefault, type RequestKind } from "../mirage/quotas.ts"

const described = <S extends Schema.Schema.Any>(schema: S, description: string) => schema.annotations({ description }) as S

const durationForms = "500ms, 5s, 30m or 1h"

/**
 * `"500ms"`, `"5s"`, `"30m"`, `"1h"`: a human-written duration, decoded to an Effect `Duration`.
 * `zero` says whether 0 is meaningful: a delay may be 0 (retry at once), a timeout or a polling
 * interval may not (`timeout: 0s` would give every job up as soon as it is submitted).
 */
const durationText = (zero: "allowed" | "refused") =>
  Schema.transformOrFail(
    Schema.String.annotations({
      title: "Duration",
      description: `A duration such as ${durationForms}.`,
      // Above 0: some digit other than 0 before the unit.
      jsonSchema: { type: "string", pattern: `^${zero === "refused" ? "(?=[0-9.]*[1-9])" : ""}[0-9]+(\\.[0-9]+)?(ms|s|m|h)$` }
    }),
    Schema.DurationFromSelf,
    {
      strict: true,
      decode: (text, _, ast) => {
        const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim())
        if (!match) {
          return ParseResult.fail(new ParseResult.Type(ast, text, `expected a duration like ${durationForms}, got "${text}"`))
        }
        const amount = Number(match[1])
        if (amount === 0 && zero === "refused") {
          return ParseResult.fail(new ParseResult.Type(ast, text, `expected a duration above 0 (like ${durationForms}), got "${text}"`))
        }
        const unit = match[2] === "ms" ? "millis" : match[2] === "s" ? "seconds" : match[2] === "m" ? "minutes" : "hours"
        return ParseResult.succeed(Duration.decode(`${amount} ${unit}`))
      },
      encode: (duration) => ParseResult.succeed(`${Duration.toMillis(duration)}ms`)
    }
  )

/** Any duration, 0 included. */
export const DurationText = durationText("allowed")
/** A duration above 0. */
export const PositiveDuration = durationText("refused")

/** A request rate as text (`2/min`, `100/min`, `5/s`, `1/30s`), decoded to a `Rate`: `count` requests per `perMs` milliseconds. */
export const RateText = Schema.transformOrFail(
  Schema.String.annotations({
    title: "Rate",
    description: "A request rate such as 2/min, 100/min, 5/s or 1/30s.",
    jsonSchema: {
      type: "string",
      pattern:
        "^\\s*[0-9]+(\\.[0-9]+)?\\s*/\\s*([0-9]+(\\.[0-9]+)?)?\\s*(ms|s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hour|hours|d|day|days)\\s*$"
    }
  }),
  Schema.Struct({ count: Schema.Number, perMs: Schema.Number }),
  {
    strict: true,
    decode: (text, _, ast) => {
      const rate = parseRate(text)
      return rate
        ? ParseResult.succeed(rate)
        : ParseResult.fail(
            new ParseResult.Type(
              ast,
              text,
              `expected a rate like 2/min, 100/min, 5/s or 1/30s (a count above 0, "/", an optional multiple, and a unit: ms, s, min, h or d), got "${text}"`
            )
          )
    },
    encode: (rate) => ParseResult.succeed(rateText(rate))
  }
)

const Slug = Schema.String.pipe(
  Schema.pattern(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, {
    message: () => "expected a slug: lowercase letters, digits and single dashes (like spring-launch)"
  })
)

const SetName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, {
    message: () => "a set name is letters, digits, - and _ (it becomes part of output paths)"
  })
)

const Template = (description: string) =>
  described(Schema.String.pipe(Schema.minLength(1, { message: () => "may not be empty" })), description)

const PositiveInt = Schema.Int.pipe(Schema.positive({ message: () => "expected a whole number above 0" }))

/** What each kind of request the provider rate-limits is, for `provider.limits`. */
const requestKindMeaning: Readonly<Record<RequestKind, string>> = {
  generation: "Video generation requests (POST /v1/videos)",
  captions: "Caption requests (POST /v1/videos/captions)",
  speech: "Text-to-speech requests (POST /v1/audio/text-to-speech/{voice_id})",
  overlays: "Text overlay requests (POST /v1/meta/text_overlays)",
  status: "Status checks of videos and overlays (GET /v1/videos/{id}, GET /v1/meta/text_overlays/{id})",
  list: "Listings of recent videos (GET /v1/videos), to reconcile a submit whose answer was lost",
  content: "Downloads (GET /v1/videos/{id}/content)",
  templates: "Caption template look-ups (GET /v1/videos/captions/templates)"
}

const limitField = (kind: RequestKind) => {
  const published = publishedQuotas[kind] !== unpublishedDefault
  const origin = published ? "the published limit" : "an assumption: no limit is published"
  return Schema.optionalWith(described(RateText, `${requestKindMeaning[kind]}. Default ${rateText(publishedQuotas[kind])} (${origin}).`), {
    exact: true
  })
}

const limitFields = Object.fromEntries(requestKinds.map((kind) => [kind, limitField(kind)])) as {
  readonly [K in RequestKind]: ReturnType<typeof limitField>
}

/** `provider.limits`: the organisation's request quotas, decoded to `Rate`s (`{ count, perMs }`). */
export const ProviderLimits = Schema.Struct(limitFields).annotations({
  description:
    "The provider's request quotas for this organisation (per API key), per kind of request, as rates like 2/min, 100/min, 5/s or 1/30s; requests are paced to them. Defaults are the published limits (generation 2 per minute, captions 100 per minute) and, for the kinds with no published figure, 300 per minute (an assumption). Organisations whose limits were raised set them here."
})

export const Provider = Schema.Struct({
  baseUrl: Schema.optional(
    described(
      Schema.String.pipe(Schema.pattern(/^https?:\/\/[^\s]+$/, { message: () => "expected an http(s) URL" })),
      "API base URL. MIRAGE_BASE_URL or --base-url override it. Default https://api.mirage.app."
    )
  ),
  apiKeyEnv: Schema.optional(
    described(
      Schema.String.pipe(
        Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/, {
          message: () => "expected the NAME of an environment variable (like MIRAGE_API_KEY), never the key itself"
        })
      ),
      "Name of the environment variable holding the API key (a key never appears in a file). Default MIRAGE_API_KEY."
    )
  ),
  model: Schema.optional(described(Schema.Literal("mirage-video-1-latest"), "Video model. Default mirage-video-1-latest.")),
  limits: Schema.optional(ProviderLimits)
}).annotations({ description: "Where renders are sent. All fields optional." })

/**
 * The defaults the descriptions document (and that `decode` compares a lone bound against, so
 * `poll.interval: 1m` without `maxInterval` is caught). The runtime's own defaults must match
 * (test/pipeline/runPolicy.test.ts checks).
 */
export const runDefaults = {
  initialDelay: "1s",
  maxDelay: "60s",
  patience: "10m",
  interval: "5s",
  maxInterval: "30s",
  timeout: "30m"
} as const

export const RetryPolicy = Schema.Struct({
  attempts: Schema.optional(
    described(
      PositiveInt,
      "Attempts per step, the first included; also the most renders of one video when the provider ends them FAILED rate_limit_exceeded. Default 5."
    )
  ),
  initialDelay: Schema.optional(
    described(DurationText, `First backoff delay (exponential, full jitter); 0 retries at once. Default ${runDefaults.initialDelay}.`)
  ),
  maxDelay: Schema.optional(
    described(
      DurationText,
      `Longest backoff delay, and the most a Retry-After is honoured; at least initialDelay. Default ${runDefaults.maxDelay}.`
    )
  ),
  patience: Schema.optional(
    described(
      PositiveDuration,
      `How long a step keeps retrying while the API is unreachable or failing (connection errors, 5xx) before its job fails; above 0. Default ${runDefaults.patience}.`
    )
  )
}).annotations({ description: "Retries of transient failures (429, 5xx, resets, timeouts)." })

export const PollPolicy = Schema.Struct({
  interval: Schema.optional(
    described(PositiveDuration, `Shortest time between two status checks of one job; above 0. Default ${runDefaults.interval}.`)
  ),
  maxInterval: Schema.optional(
    described(PositiveDuration, `Longest time between two status checks of one job; at least interval. Default ${runDefaults.maxInterval}.`)
  )
}).annotations({ description: "Status polling; adaptive between the two bounds." })

export const RunPolicy = Schema.Struct({
  concurrency: Schema.optional(described(PositiveInt, "Jobs in flight at the provider (submitted, not yet downloaded). Default 4.")),
  requestsPerSecond: Schema.optional(
    described(
      Schema.Number.pipe(Schema.positive({ message: () => "expected a number above 0" })),
      "Requests per second, shared by every request of the run. Default 5."
    )
  ),
  retry: Schema.optional(RetryPolicy),
  poll: Schema.optional(PollPolicy),
  timeout: Schema.optional(
    described(
      PositiveDuration,
      `Per job, from submission to COMPLETE; a late job is detached, not failed. Above 0. Default ${runDefaults.timeout}.`
    )
  ),
  budgetUsd: Schema.optional(
    described(
      Schema.Number.pipe(Schema.nonNegative({ message: () => "expected 0 or more" })),
      "Refuse to start, and stop submitting, beyond this estimated spend in USD."
    )
  )
}).annotations({ description: "Execution policy. All fields optional, with the defaults given." })

/**
 * A var is text to templates. The file's numbers and booleans arrive as written (`decode` puts
 * the source text of plain scalars in place of their values: `007` stays `007`, not `7`); a value
 * given from a program is turned into text here.
 */
export const VarValue = Schema.transform(Schema.Union(Schema.String, Schema.Number, Schema.Boolean), Schema.String, {
  strict: true,
  decode: (value) => String(value),
  encode: (text) => text
}).annotations({
  description: "A value usable in templates as {{vars.<name>}}, exactly as written (007 stays 007, 1e3 stays 1e3)."
})

const InputPath = (role: "image" | "audio") =>
  Template(
    role === "image"
      ? "Presenter image (PNG or JPEG), relative to the pipeline file's folder."
      : "Voice track (WAV or MP3), relative to the pipeline file's folder."
  )

/** The speech fields, with examples of the variables the set offers to its templates. */
const speechFields = (voiceExample: string, textExample: string) => ({
  voice: Template(`Voice id for text-to-speech (templated, e.g. ${voiceExample}).`),
  text: Template(`The script to speak (templated: ${textExample} and friends). At most 5000 characters once rendered.`),
  model: Schema.optional(described(Schema.Literal("mirage-audio-1"), "Speech model. Default mirage-audio-1."))
})

const speechDescription =
  "Generate the voice track with text-to-speech instead of giving `audio`. Same text and voice → one request, cached under the state folder."

/** `speech` on a rows set: its templates know the row and the row's (resolved) image. */
export const RowsSpeech = Schema.Struct(speechFields("{{row.voice}}", "{{row.first_name}}, {{image.stem}}")).annotations({
  title: "Speech",
  description: speechDescription
})

/** `speech` on a pairs set: no row, so its templates know the pair's image and the vars. */
export const PairsSpeech = Schema.Struct(speechFields("{{vars.voice}}", "{{image.stem}}, {{vars.<name>}}")).annotations({
  title: "Speech",
  description: speechDescription
})

/** `speech` on a matrix: one job per image, so its templates know the image rather than a row. */
export const MatrixSpeech = Schema.Struct(speechFields("{{vars.voice}}", "{{image.stem}}")).annotations({
  title: "Speech",
  description:
    "Generate each image's voice track with text-to-speech instead of giving `matrix.audio`: one job per image. Same text and voice → one request, cached under the state folder."
})

export const Captions = Schema.Struct({
  template: Template("Caption template id (see GET /v1/videos/captions/templates), e.g. ctpl_…"),
  output: Schema.optional(
    Template("Also keep the uncaptioned video: where the captioned one goes (then the set's output keeps the plain one).")
  )
}).annotations({
  title: "Captions",
  description: "Caption the generated video (by its id, no re-upload); the captioned video is the output."
})

const HexColor = Schema.String.pipe(Schema.pattern(/^#[0-9A-Fa-f]{6}$/, { message: () => "expected a colour like #FFCC00" }))

export const OverlayVariant = Schema.Struct({
  text: Template(
    "The overlay text (templated: {{image.stem}}, {{audio.stem}} unless spoken, {{row.<column>}}, {{vars.<name>}}). Each variant is its own output: use {{overlay.index}} or {{overlay.text | slug}} in the output template."
  ),
  font: Schema.optional(described(Schema.String, "Font name.")),
  size: Schema.optional(described(PositiveInt, "Font size in pixels.")),
  color: Schema.optional(described(HexColor, "Text colour, #RRGGBB."))
}).annotations({ title: "OverlayVariant", description: "One text overlay variant." })

export const Overlays = Schema.Array(OverlayVariant)
  .pipe(Schema.minItems(1, { message: () => "expected at least one overlay variant" }))
  .annotations({
    description:
      "Text overlay variants rendered onto the (captioned) video, up to 4 per request; each variant is its own output and lock entry."
  })

const stageFields = {
  captions: Schema.optional(Captions),
  overlays: Schema.optional(Overlays)
}

export const Pair = Schema.Struct({
  image: InputPath("image"),
  audio: Schema.optional(InputPath("audio")),
  output: Schema.optional(Template("Output path template for this pair; overrides the set's and the file's."))
}).annotations({ title: "Pair", description: "One explicit image/audio pair (without `audio` when the set has `speech`)." })

const PathsOrGlobs = (role: "image" | "audio") =>
  Schema.Union(
    Template(`${role === "image" ? "An image" : "An audio"} path or glob (like assets/vo/*.wav), relative to the pipeline file's folder.`),
    Schema.Array(Template(`${role === "image" ? "An image" : "An audio"} path or glob.`)).pipe(
      Schema.minItems(1, { message: () => "expected at least one entry" })
    )
  ).annotations({ description: `One ${role} path or glob, or a list of them. Glob matches are taken in sorted order.` })

export const ExcludeEntry = Schema.Struct({
  image: Schema.optional(Template("Image path or glob to leave out (with the audio, when given).")),
  audio: Schema.optional(
    Template("Audio path or glob to leave out (with the image, when given). Not in a set with `speech`: it has no audio files.")
  )
}).annotations({ description: "Combinations of the matrix to leave out: every pair matching all the given keys." })

const SetOutput = Schema.optional(Template("Output path template for this set's jobs; overrides the file's `output`."))

export const PairsSet = Schema.Struct({
  description: Schema.optional(described(Schema.String, "What this set is for.")),
  pairs: Schema.Array(Pair)
    .pipe(Schema.minItems(1, { message: () => "expected at least one pair" }))
    .annotations({
      description: "Explicit image/audio pairs, rendered in this order."
    }),
  speech: Schema.optional(PairsSpeech),
  ...stageFields,
  output: SetOutput
}).annotations({ title: "PairsSet", description: "A set of explicit pairs." })

export const MatrixSet = Schema.Struct({
  description: Schema.optional(described(Schema.String, "What this set is for.")),
  matrix: Schema.Struct({
    image: PathsOrGlobs("image"),
    audio: Schema.optional(
      PathsOrGlobs("audio").annotations({
        description:
          "One audio path or glob, or a list of them. Glob matches are taken in sorted order. Leave it out when the set has `speech` (exactly one of the two)."
      })
    )
  }).annotations({ description: "Every image with every audio (images outer, audios inner); with `speech`, every image once." }),
  exclude: Schema.optional(
    Schema.Array(ExcludeEntry).annotations({ description: "Combinations to leave out; each entry must match at least one job." })
  ),
  speech: Schema.optional(MatrixSpeech),
  ...stageFields,
  output: SetOutput
}).annotations({ title: "MatrixSet", description: "The cross product of images and audios (with `speech`, one job per image)." })

export const RowsSet = Schema.Struct({
  description: Schema.optional(described(Schema.String, "What this set is for.")),
  rows: Template(
    "Data file, relative to the pipeline file's folder: CSV with a header row (.csv), a JSON array of objects (.json) or a YAML list of objects (.yaml/.yml). Each row is one job; its fields are {{row.<column>}}."
  ),
  image: Template("Image path template, e.g. assets/presenters/{{row.presenter}}.png. Row values may not contain /, \\ or .."),
  audio: Schema.optional(Template("Audio path template, e.g. audio/{{row.id}}.wav. Row values may not contain /, \\ or ..")),
  speech: Schema.optional(RowsSpeech),
  ...stageFields,
  output: SetOutput
}).annotations({ title: "RowsSet", description: "One job per row of a data file." })

export const SetSpec = Schema.Union(PairsSet, MatrixSet, RowsSet).annotations({
  description: "A set of jobs: exactly one of `pairs`, `matrix` or `rows`."
})

/** The formats of the results table (`clapper results --format`, `results.format`). */
export const resultsFormats = ["csv", "json", "jsonl"] as const
export const ResultsFormat = Schema.Literal(...resultsFormats)
export type ResultsFormat = typeof ResultsFormat.Type

export const ResultsOption = Schema.Struct({
  path: described(
    Schema.String.pipe(Schema.minLength(1, { message: () => "may not be empty" })),
    "Where the results table is written after every run, relative to the pipeline file's folder. Not in a folder the outputs go to, and never an input, a data file, the pipeline file or its lock file."
  ),
  format: Schema.optional(
    described(
      ResultsFormat,
      "csv (RFC 4180), json (one array) or jsonl (one result per line). Default: from the path's extension (.json, .jsonl), else csv."
    )
  )
}).annotations({
  title: "Results",
  description:
    "Write the results table (one row per job: its set, index, data row, output, state, video id, share link, cost, attempts, last error) after every run, as `clapper results` prints it."
})
export type ResultsOption = typeof ResultsOption.Type

/** A state database named in the file: a connection string without its password (a secret never appears in a file). */
export const StateDatabase = Schema.String.pipe(
  Schema.filter(
    (text) => {
      const parsed = parseStateUrl(text, "state")
      if (parsed._tag === "StateUrlInvalid") return parsed.reason
      return new URL(text).password === ""
        ? undefined
        : "a password never appears in a file: leave it out of the connection string and set PGPASSWORD, or give the whole string with --state or CLAPPER_STATE"
    },
    { jsonSchema: { pattern: "^postgres(ql)?://" } }
  )
)

export const defaultOutputTemplate = "renders/{{set}}/{{image.stem}}--{{audio.stem}}.mp4"
/** For sets whose voice is spoken from a script: there is no audio file name to use. */
export const defaultSpeechOutputTemplate = "renders/{{set}}/{{image.stem}}--{{index}}.mp4"

/** The fields of a pipeline file; `sets` is generic so decoding can check each set on its own. */
const pipelineFields = <S extends Schema.Schema.Any>(set: S) => ({
  version: described(
    Schema.Literal(1).annotations({ message: () => "this Clapper reads pipeline files of version 1; set `version: 1`" }),
    "Format version of this file. Always 1."
  ),
  name: described(Slug, "Campaign name, a slug: it names the state folder (.clapper/<name>/)."),
  description: Schema.optional(described(Schema.String, "What this pipeline renders, for people.")),
  provider: Schema.optional(Provider),
  run: Schema.optional(RunPolicy),
  vars: Schema.optional(
    Schema.Record({ key: Schema.String, value: VarValue }).annotations({ description: "Constants for templates: {{vars.<name>}}." })
  ),
  output: Schema.optional(
    Template(`Default output path template for every set, relative to the pipeline file's folder. Default ${defaultOutputTemplate}.`)
  ),
  results: Schema.optional(ResultsOption),
  state: Schema.optional(
    described(
      StateDatabase,
      "Keep the campaign's state in this PostgreSQL database instead of files beside the pipeline: postgres://user@host:5432/database, without the password (PGPASSWORD gives it). --state and CLAPPER_STATE override it."
    )
  ),
  sets: Schema.Record({ key: SetName, value: set }).annotations({
    description: "The sets of jobs, by name (unique by construction). Order in the file is the order of jobs."
  })
})

export const Pipeline = Schema.Struct(pipelineFields(SetSpec)).annotations({
  identifier: "ClapperPipeline",
  title: "Clapper pipeline",
  description: "A Clapper pipeline file (version 1): sets of image/audio pairs rendered on the Mirage Video API."
})
export type Pipeline = typeof Pipeline.Type
export type SetSpec = typeof SetSpec.Type
export type PairsSet = typeof PairsSet.Type
export type MatrixSet = typeof MatrixSet.Type
export type RowsSet = typeof RowsSet.Type

/** The pipeline with each set left undecoded: decoding picks the set's kind by its key first. */
export const PipelineShell = Schema.Struct(pipelineFields(Schema.Unknown))

/** The three kinds of set, by the key that marks them. */
export const setKinds = { pairs: PairsSet, matrix: MatrixSet, rows: RowsSet } as const
export type SetKind = keyof typeof setKinds
