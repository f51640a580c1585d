/** A run's events as an Effect `Stream`: it ends when the run ends and fails as the run fails. */
import type { FileSystem, Path } from "@effect/platform"
import { Effect, Mailbox, Stream } from "effect"
import type { RunEvent } from "../runtime/events.ts"
import { runPipeline, type RunPipelineOptions } from "./runPipeline.ts"

export const runPipelineEvents = (
  file: string,
  options: Omit<RunPipelineOptions, "emit">
): Stream.Stream<RunEvent, Effect.Effect.Error<ReturnType<typeof runPipeline>>, FileSystem.FileSystem | Path.Path> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const mailbox = yield* Mailbox.make<RunEvent, Effect.Effect.Error<ReturnType<typeof runPipeline>>>()
      yield* runPipeline(file, { ...options, emit: (event) => Effect.asVoid(mailbox.offer(event)) }).pipe(
        Mailbox.into(mailbox),
        Effect.forkScoped
      )
      return Mailbox.toStream(mailbox)
    })
  )
