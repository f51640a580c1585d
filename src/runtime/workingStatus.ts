/**
 * A remote job's status that is neither done nor failed. The provider documents QUEUED and
 * PROCESSING for videos and overlay jobs alike; any status it adds later is taken as work in
 * progress too (it never fails a render that is being paid for), and reported once per run.
 */
import { Effect } from "effect"
import type { MachineContext } from "./machineContext.ts"

/** Statuses the provider documents for work not finished yet. */
const documentedWorking: ReadonlySet<string> = new Set(["QUEUED", "PROCESSING"])

/** Warns once per run and status when `status` is one Clapper does not know (what: "status" or "overlay status"). */
export const noteWorkingStatus = (
  ctx: MachineContext,
  what: "status" | "overlay status",
  status: string,
  remoteId: string
): Effect.Effect<void> =>
  documentedWorking.has(status)
    ? Effect.void
    : ctx.warnOnce(
        `${what}:${status}`,
        `the provider answered ${what === "status" ? "a status" : "an overlay status"} Clapper does not know, "${status}" (first for ${remoteId}); it is taken as work in progress until the timeout`
      )
