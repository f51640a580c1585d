/**
 * What the lock file records of a job's output: what it was rendered from (inputs and their
 * digests, model, stage parameters), the remote video, the output's digest and its cost.
 */
import type { LockEntry } from "../state/lockFile.ts"
import type { OutputFacts } from "../state/recorder.ts"
import type { PlannedJob } from "./plan.ts"

export const lockEntryFor = (job: PlannedJob, videoId: string, output: OutputFacts | { sha256: string; size: number }): LockEntry => {
  const speech = job.stages.speech
  return {
    fingerprint: job.fingerprint,
    model: job.model,
    inputs: {
      image: { path: job.inputs.image.path, sha256: job.inputs.image.sha256 },
      ...(job.inputs.audio ? { audio: { path: job.inputs.audio.path, sha256: job.inputs.audio.sha256 } } : {})
    },
    parameters: {
      ...(speech
        ? {
            speech: {
              voice: speech.voice,
              text: speech.text,
              model: speech.model,
              ...("speechSha256" in output && output.speechSha256 ? { sha256: output.speechSha256 } : {})
            }
          }
        : {}),
      ...(job.stages.captions ? { captions: { template: job.stages.captions.template } } : {}),
      ...(job.stages.overlay ? { overlay: job.stages.overlay } : {})
    },
    videoId,
    output: { sha256: output.sha256, size: output.size },
    durationSeconds: Math.round(job.durationSeconds * 1000) / 1000,
    costUsd: job.estimatedCostUsd
  }
}
