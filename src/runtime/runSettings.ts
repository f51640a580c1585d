/** The execution policy of a run: the pipeline's `run:` block, command-line overrides, defaults. */
import { Duration } from "effect"
import { publishedQuotas, type Quotas, type Rate, type RequestKind } from "../mirage/quotas.ts"
import type { Pipeline } from "../pipeline/schema.ts"

export interface RunSettings {
  /** Jobs in flight at the provider: submitted and not yet downloaded. */
  readonly concurrency: number
  /** Uploads (submit requests) at once; a share of `concurrency`. */
  readonly uploads: number
  /** Downloads at once. */
  readonly downloads: number
  /** Requests per second, shared by every request of the run. */
  readonly requestsPerSecond: number
  /** The provider's quotas for this key, per kind of request: submits are paced to them. */
  readonly quotas: Quotas
  readonly retry: {
    readonly attempts: number
    readonly initialDelay: Duration.Duration
    readonly maxDelay: Duration.Duration
    /** A step failing for want of an answer (outage, 5xx) keeps retrying at least this long. */
    readonly patience: Duration.Duration
  }
  readonly poll: { readonly interval: Duration.Duration; readonly maxInterval: Duration.Duration }
  /** From submission to COMPLETE; then the job is detached (still rendering), not failed. */
  readonly timeout: Duration.Duration
  /** After Ctrl-C, how long requests already sent may take to answer before the run stops. */
  readonly settleTime: Duration.Duration
  /** The client's request timeout: how long a lost submit may have taken to land (reconciliation window). */
  readonly requestTimeout: Duration.Duration
  /** Estimated spend (USD) this run may commit; undefined: no limit. */
  readonly budgetUsd: number | undefined
}

export const defaultRunSettings: RunSettings = {
  concurrency: 4,
  uploads: 4,
  downloads: 4,
  requestsPerSecond: 5,
  quotas: publishedQuotas,
  retry: { attempts: 5, initialDelay: Duration.seconds(1), maxDelay: Duration.seconds(60), patience: Duration.minutes(10) },
  poll: { interval: Duration.seconds(5), maxInterval: Duration.seconds(30) },
  timeout: Duration.minutes(30),
  settleTime: Duration.seconds(5),
  requestTimeout: Duration.seconds(60),
  budgetUsd: undefined
}

export interface RunOverrides {
  readonly concurrency?: number | undefined
  readonly requestsPerSecond?: number | undefined
  /** Overrides `run.budgetUsd`. */
  readonly budgetUsd?: number | undefined
  /** Overrides `provider.limits`, kind by kind. */
  readonly quotas?: Partial<Record<RequestKind, Rate>> | undefined
}

export const resolveRunSettings = (
  pipeline: Pipeline,
  overrides: RunOverrides = {},
  base: RunSettings = defaultRunSettings
): RunSettings => {
  const run = pipeline.run
  const concurrency = overrides.concurrency ?? run?.concurrency ?? base.concurrency
  return {
    ...base,
    concurrency,
    uploads: Math.max(1, Math.min(concurrency, base.uploads)),
    downloads: Math.max(1, Math.min(concurrency, base.downloads)),
    requestsPerSecond: overrides.requestsPerSecond ?? run?.requestsPerSecond ?? base.requestsPerSecond,
    quotas: { ...base.quotas, ...pipeline.provider?.limits, ...overrides.quotas },
    retry: {
      attempts: run?.retry?.attempts ?? base.retry.attempts,
      initialDelay: run?.retry?.initialDelay ?? base.retry.initialDelay,
      maxDelay: run?.retry?.maxDelay ?? base.retry.maxDelay,
      patience: run?.retry?.patience ?? base.retry.patience
    },
    poll: {
      interval: run?.poll?.interval ?? base.poll.interval,
      maxInterval: run?.poll?.maxInterval ?? base.poll.maxInterval
    },
    timeout: run?.timeout ?? base.timeout,
    budgetUsd: overrides.budgetUsd ?? run?.budgetUsd ?? base.budgetUsd
  }
}
