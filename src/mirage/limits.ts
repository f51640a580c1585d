/**
 * Input limits Clapper enforces before anything is sent, and the simulator enforces on arrival.
 *
 * The published OpenAPI description states only the caption upload limits (MP4/MOV, 9:16, 50 MB)
 * and the overlay limit (4 texts). The image and audio limits below are Clapper's conservative
 * assumptions, kept in this one place so the checks and the simulator can never disagree.
 */
export const MiB = 1024 * 1024

export const limits = {
  /** JPEG or PNG presenter image. */
  maxImageBytes: 10 * MiB,
  /** WAV or MP3 voice track. */
  maxAudioBytes: 50 * MiB,
  /** Longest voice track accepted, in seconds. */
  maxAudioSeconds: 10 * 60,
  /** Caption upload (`video`), per the API description. */
  maxCaptionVideoBytes: 50 * MiB,
  /** Texts in one text-overlay request, per the API description. */
  maxOverlayTexts: 4,
  /** Characters in one text-to-speech request. */
  maxSpeechChars: 5000,
  /** Page size bounds of list endpoints. */
  maxPageSize: 100
} as const

/** Published prices used for estimates. */
export const pricing = {
  /** Generated video: USD per second, billed in whole increments of `videoIncrementSeconds`. */
  videoUsdPerSecond: 0.15,
  videoIncrementSeconds: 6,
  /** Captions: USD per started minute of input video. */
  captionsUsdPerMinute: 0.15
} as const

/** Estimated price of generating a video whose audio lasts `seconds`. */
export const estimateVideoCostUsd = (seconds: number): number => {
  const billed = Math.max(1, Math.ceil(seconds / pricing.videoIncrementSeconds)) * pricing.videoIncrementSeconds
  return Math.round(billed * pricing.videoUsdPerSecond * 100) / 100
}

/** Estimated price of captioning a video that lasts `seconds`: per started minute. */
export const estimateCaptionsCostUsd = (seconds: number): number =>
  Math.round(Math.max(1, Math.ceil(seconds / 60)) * pricing.captionsUsdPerMinute * 100) / 100

/**
 * Estimated length of speech for a script, before it is generated: about 60 ms per character
 * (≈ 150 words a minute), the rate the simulator also speaks at.
 */
export const estimateSpeechSeconds = (text: string): number => Math.round(text.length * 0.06 * 1000) / 1000
