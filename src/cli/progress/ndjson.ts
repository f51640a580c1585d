/**
 * `clapper run --json`: every `RunEvent` exactly as the runtime emitted it, one JSON object per
 * line on stdout and nothing else there. `ndjsonDocs` describes the lines for the README.
 */
import type { RunEvent } from "../../runtime/events.ts"

/** One NDJSON line (with its newline) for `event`. */
export const ndjsonLine = (event: RunEvent): string => `${JSON.stringify(event)}\n`

/** The NDJSON output, documented: Markdown for the README or `--help`. */
export const ndjsonDocs = `\
With \`--json\`, \`clapper run\` prints one JSON object per line on stdout and nothing else there.
Every object has \`type\` and \`at\` (ISO 8601 time). Job events also have \`job\`: the job's
id, which is its output path relative to the project root. Amounts are estimates in US dollars,
times in milliseconds. Fields marked ? may be absent; new fields and event types may be added.

| \`type\` | Other fields |
| --- | --- |
| \`run.started\` | \`pipeline\`, \`jobs\` (jobs to do), \`renders\` (distinct renders among them), \`concurrency\`, \`estimatedCostUsd\`, \`minimumDurationMs\` (the least time the generation quota allows these renders), \`generationQuota\` (e.g. \`2 per minute\`) |
| \`job.queued\` | \`job\`, \`set\`, \`estimatedCostUsd\` |
| \`job.submitting\` | \`job\`, \`attempt\` (from 1) |
| \`job.submitted\` | \`job\`, \`videoId\`, \`attempt\`, \`step\`? (\`submit\` for the render, \`captions\` for its captioning) |
| \`job.progress\` | \`job\`, \`videoId\`, \`progress\` (0–100 or null), \`status\` (the provider's, e.g. \`PROCESSING\`) |
| \`job.rendered\` | \`job\`, \`videoId\` |
| \`job.downloading\` | \`job\`, \`videoId\`, \`resumeFrom\` (bytes already on disk) |
| \`job.completed\` | \`job\`, \`videoId\`, \`output\`, \`bytes\`, \`sharedWith\`? (the job whose render this copies) |
| \`job.retrying\` | \`job\`, \`step\` (\`speech\` \\| \`submit\` \\| \`reconcile\` \\| \`captions\` \\| \`poll\` \\| \`overlay\` \\| \`download\`), \`attempt\`, \`delayMs\`, \`reason\`, \`throttled\`? (true for a 429: the provider's quota, no attempt spent) |
| \`job.duplicateRisk\` | \`job\`, \`reason\` (a submit with an unknown outcome is retried: a second paid video may exist) |
| \`job.failed\` | \`job\`, \`step\`, \`reason\`, \`code\`? (the provider's error code), \`videoId\`? |
| \`job.detached\` | \`job\`, \`videoId\` (still rendering when the job's timeout passed; the next run picks it up) |
| \`run.throttled\` | \`untilMs\` (epoch milliseconds: no request of this kind starts before then), \`step\`? (the step that was refused) |
| \`run.waiting\` | \`reason\`, \`sinceMs\`, \`retryAtMs\` (epoch milliseconds: the API does not answer; the run waits and probes, no job fails for it) |
| \`run.resumed\` | \`downForMs\` (the API answers again) |
| \`run.stopping\` | \`reason\` |
| \`run.warning\` | \`message\` (something to know that does not stop the run: a stale runner lock taken over, a torn journal line) |
| \`run.finished\` | \`summary\`: \`jobs\`, \`completed\` (job ids), \`failed\` ({\`job\`, \`step\`, \`reason\`, \`code\`?, \`videoId\`?}), \`inFlight\` ({\`job\`, \`videoId\`}), \`skipped\` (job ids), \`unknownOutcome\` (job ids whose submit was unanswered when the run was interrupted), \`possibleDuplicates\`, \`interrupted\`, \`spentUsd\`, \`elapsedMs\`, \`upToDate\` (job ids already done before this run), \`budget\`? ({\`limitUsd\`, \`leftToDo\`}), \`stopped\`? ({\`reason\`: \`key-refused\` \\| \`state-unwritable\`, \`message\`}: the run stopped at once) |

\`run.finished\` is the last line of a run that ends normally or on Ctrl-C.
`
