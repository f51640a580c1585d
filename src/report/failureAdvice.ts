/**
 * What to do next about a failure, by its cause: the provider's code when it gave one, else the
 * step that failed. Every piece of advice ends the same way because it is true of every failure:
 * the next `clapper run` does only what is left, and never renders a finished video again.
 */

/** Advice for failures of `step` with the provider's `code` (when the video ended FAILED). */
export const failureAdvice = (step: string, code: string | undefined, pipelineFile: string): string => {
  const rerun = `then run \`clapper run ${pipelineFile}\` again: it redoes only what failed.`
  switch (code) {
    case "rate_limit_exceeded":
      return `The provider ended the render FAILED for its quota after every resubmission Clapper was allowed (run.retry.attempts). Wait a little (or ask the provider for a higher limit), ${rerun}`
    case "generation_failed":
      return `The provider could not make this video from its inputs. Check the image (one clear face, facing the camera) and the voice track (speech, not silence or music), ${rerun}`
    case "cancelled":
      return `The video was cancelled at the provider (by someone using the same key, or by the provider). If that was not meant, ${rerun}`
    case undefined:
      break
    default:
      return `The provider ended the video FAILED with code "${code}". Look the code up in the provider's documentation or ask its support, ${rerun}`
  }
  switch (step) {
    case "speech":
      return `Text-to-speech failed. Check the voice id and the script (at most 5000 characters), ${rerun}`
    case "submit":
      return `The provider refused the submission or kept failing. The reason names the field or the status: fix the input it names, ${rerun}`
    case "reconcile":
      return `A submit's answer was lost and the provider's list of videos could not be read to find it. ${rerun.charAt(0).toUpperCase()}${rerun.slice(1)}`
    case "captions":
      return `The captioning failed. Check the caption template id (\`clapper plan\` checks it at the provider); the generated video is kept, ${rerun}`
    case "poll":
      return `The status of a video that exists could not be read. The video is not rendered again: ${rerun}`
    case "overlay":
      return `The text overlays failed. Check each overlay's text, font, size and colour (#RRGGBB), ${rerun}`
    case "download":
      return `The finished video could not be downloaded or written. Check the free space and the permissions of the output folder; the video is downloaded again, not rendered: ${rerun}`
    default:
      return `Read the reason, ${rerun}`
  }
}
