import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Either } from "effect"
import { limits } from "../../mirage/limits.ts"
import { issue, missingField, type ValidationIssue, validationFailed } from "../apiErrors.ts"
import type { ApiRoute } from "../apiGate.ts"
import { speechWav } from "../speechWav.ts"

/** Text-to-speech: synchronous, answers the WAV bytes themselves. */

export const speechModel = "mirage-audio-1"

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The issues of a TTS body, as pydantic words them for `{text: str, model: Literal[...]}`. */
const speechIssues = (body: unknown): ReadonlyArray<ValidationIssue> => {
  if (!isRecord(body)) return [issue(["body"], "Input should be a valid dictionary or object", "model_attributes_type")]
  const issues: Array<ValidationIssue> = []
  const text = body["text"]
  if (text === undefined) issues.push(missingField(["body", "text"]))
  else if (typeof text !== "string") issues.push(issue(["body", "text"], "Input should be a valid string", "string_type"))
  else if (text.trim().length === 0) issues.push(issue(["body", "text"], "String should have at least 1 character", "string_too_short"))
  else if (Array.from(text).length > limits.maxSpeechChars) {
    issues.push(issue(["body", "text"], `String should have at most ${limits.maxSpeechChars} characters`, "string_too_long"))
  }
  const model = body["model"]
  if (model === undefined) issues.push(missingField(["body", "model"]))
  else if (model !== speechModel) issues.push(issue(["body", "model"], `Input should be '${speechModel}'`, "enum"))
  return issues
}

const generateSpeech: ApiRoute = {
  method: "POST",
  template: "/v1/audio/text-to-speech/{voice_id}",
  kind: "speech",
  handle: () =>
    Effect.gen(function* () {
      const { voice_id } = yield* HttpRouter.params
      const request = yield* HttpServerRequest.HttpServerRequest
      const body = yield* Effect.either(request.json)
      if (Either.isLeft(body)) return validationFailed([issue(["body"], "JSON decode error", "json_invalid")])
      const issues = [
        ...(voice_id === undefined || voice_id.trim() === "" ? [missingField(["path", "voice_id"])] : []),
        ...speechIssues(body.right)
      ]
      if (issues.length > 0 || !isRecord(body.right) || typeof body.right["text"] !== "string") return validationFailed(issues)
      return HttpServerResponse.uint8Array(speechWav(body.right["text"]), { contentType: "audio/wav" })
    })
}

export const speechRoutes: ReadonlyArray<ApiRoute> = [generateSpeech]
