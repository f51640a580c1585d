import type { FaultDice } from "./faultDice.ts"
import type { FileStore } from "./fileStore.ts"
import type { OverlayJobStore } from "./overlayJobs.ts"
import type { RequestQuotas } from "./requestQuotas.ts"
import type { SimCounters } from "./simStats.ts"
import type { SimulatorOptions } from "./simulatorOptions.ts"
import type { Throttle } from "./throttle.ts"
import type { VideoJobStore } from "./videoJobs.ts"
import type { VideoRenderer } from "./videoRenderer.ts"

/** Everything the routes of one simulator share: its options, state, counters and fault dice. */
export interface SimContext {
  readonly options: SimulatorOptions
  readonly fileBaseUrl: string
  readonly counters: SimCounters
  readonly dice: FaultDice
  readonly throttle: Throttle
  readonly quotas: RequestQuotas
  readonly store: FileStore
  readonly renderer: VideoRenderer
  readonly videos: VideoJobStore
  readonly overlays: OverlayJobStore
}

/** The file host URL of a published file. */
export const fileUrl = (context: SimContext, name: string): string => `${context.fileBaseUrl}/files/${encodeURIComponent(name)}`
