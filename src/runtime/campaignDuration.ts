/**
 * How long a campaign takes at least: the provider's quota, not the machine, is the bound. N
 * renders at Q generations a minute take N ÷ Q minutes however fast everything else is (10,000
 * renders at 2 a minute: about 3.5 days).
 */
import type { Quotas } from "../mirage/quotas.ts"

export interface CampaignRequests {
  readonly generations: number
  readonly captions?: number
}

/** Milliseconds the quotas allow these requests in, at the least. */
export const minimumDurationMs = (requests: CampaignRequests, quotas: Quotas): number => {
  const at = (n: number, rate: Quotas[keyof Quotas]) => (n * rate.perMs) / rate.count
  return Math.max(at(requests.generations, quotas.generation), at(requests.captions ?? 0, quotas.captions))
}

/** `8 h 20 min`, `3 d 11 h`, `45 s`: a duration to the two largest units that matter. */
export const formatLongDuration = (ms: number): string => {
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`
  const days = Math.floor(hours / 24)
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`
}
