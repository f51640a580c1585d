/**
 * A render's fingerprint: what determines the video, and nothing else. Content digests of the
 * inputs, the model, every stage parameter and the recipe version; never the output path, so
 * renaming an output costs no render and identical jobs share one.
 */
import { createHash } from "node:crypto"

/** Bump when Clapper changes how it renders from the same inputs, so old renders count as changed. */
export const recipeVersion = 1

export interface FingerprintInputs {
  readonly model: string
  /** Hex SHA-256 of the image's bytes. */
  readonly image: string
  /** Hex SHA-256 of the audio's bytes. */
  readonly audio: string
  /** Parameters of later stages (speech, captions, overlays), when present. */
  readonly stages?: Readonly<Record<string, unknown>>
}

/** JSON with keys sorted at every level: equal values always give equal text. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

/**
 * `canonicalJson({ recipe, model, image, audio, stages })`, written out: the keys in their sorted
 * order (audio, image, model, recipe, stages) and the strings quoted, without sorting anything
 * but the stages. The same text (a test compares them); a plan computes it for every job.
 */
const fingerprintText = (inputs: FingerprintInputs): string => {
  const { model, image, audio } = inputs
  if (typeof model !== "string" || typeof image !== "string" || typeof audio !== "string") {
    return canonicalJson({ recipe: recipeVersion, model, image, audio, stages: inputs.stages ?? {} })
  }
  const stages = inputs.stages === undefined ? "{}" : canonicalJson(inputs.stages)
  return `{"audio":${JSON.stringify(audio)},"image":${JSON.stringify(image)},"model":${JSON.stringify(model)},"recipe":${recipeVersion},"stages":${stages}}`
}

export const fingerprint = (inputs: FingerprintInputs): string =>
  "sha256:" + createHash("sha256").update(fingerprintText(inputs)).digest("hex")

/** A speech track's fingerprint: what determines the generated audio. */
export const speechFingerprint = (speech: { readonly voice: string; readonly text: string; readonly model: string }): string =>
  "sha256:" +
  createHash("sha256")
    .update(canonicalJson({ recipe: recipeVersion, speech: { voice: speech.voice, text: speech.text, model: speech.model } }))
    .digest("hex")
