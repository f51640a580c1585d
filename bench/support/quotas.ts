/**
 * Quotas for the benchmarks. The simulator enforces the provider's published per-key quotas by
 * default (2 generations a minute) and keeps a video QUEUED for 2 s before it renders; the
 * benchmarks that are not about quotas or the queue (1–5) give it roomy quotas and no queue,
 * and tell Clapper the same figures (`provider.limits` in the campaign's pipeline), so Clapper
 * still paces to exactly what the server enforces and the old measurements stay comparable.
 */
import { perMinute, type Quotas, type RequestKind, rateText, requestKinds, uniformQuotas } from "../../src/mirage/quotas.ts"

/** Every kind at 10,000,000 a minute: nothing a benchmark sends comes near it. */
export const roomyQuotas: Quotas = uniformQuotas(perMinute(10_000_000))

/** Simulator options for a benchmark that is not about quotas or the provider's queue. */
export const roomySim = { quotas: roomyQuotas, queuedMs: 0 } as const

/** The quotas as a pipeline's `provider.limits` writes them (`generation: 2/min`, …). */
export const limitsOf = (quotas: Quotas): Readonly<Record<RequestKind, string>> =>
  Object.fromEntries(requestKinds.map((kind) => [kind, rateText(quotas[kind])])) as Record<RequestKind, string>
