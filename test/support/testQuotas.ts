/**
 * Quotas for tests that are not about quotas: the simulator enforces the provider's published
 * ones by default (2 generations a minute), far too slow for a test campaign. Both sides are given
 * the same roomy figures, so the runtime still paces to what the simulator enforces.
 */
import { perMinute, uniformQuotas } from "../../src/mirage/quotas.ts"

export const roomyQuotas = uniformQuotas(perMinute(1_000_000))

/** Simulator options for a test that is not about quotas or the provider's queue. */
export const roomySim = { quotas: roomyQuotas, queuedMs: 0 } as const
