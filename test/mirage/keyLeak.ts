/** Asserts an error (or any failure value) shows the API key in none of its renderings. */
import { Cause } from "effect"
import { inspect } from "node:util"
import { expect } from "vitest"
import { secretKey } from "./support.ts"

export const renderings = (e: unknown): ReadonlyArray<string> => {
  const out = [String(e), JSON.stringify(e), inspect(e, { depth: 10 }), Cause.pretty(Cause.fail(e))]
  if (e instanceof Error) out.push(e.message, e.stack ?? "", e.toString())
  return out
}

export const expectNoKey = (e: unknown): void => {
  for (const text of renderings(e)) expect(text).not.toContain(secretKey)
}
