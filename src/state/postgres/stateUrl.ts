/**
 * Where a campaign's state lives when it is not the files beside the pipeline: a PostgreSQL
 * database named by a `postgres://` connection string (`--state`, or `CLAPPER_STATE`). The string
 * is a secret like the API key: it is kept `Redacted`, and every message names the database by
 * `describeStateUrl` (user, host, port and database, never the password).
 */
import { Data, Redacted } from "effect"

export class StateUrlInvalid extends Data.TaggedError("StateUrlInvalid")<{
  /** Where it came from: `--state` or `CLAPPER_STATE`. */
  readonly source: string
  readonly reason: string
}> {
  override get message() {
    return `${this.source}: ${this.reason}. Give a connection string such as postgres://user:password@host:5432/database (or leave it out to keep the state in files beside the pipeline)`
  }
}

export interface PostgresLocation {
  readonly _tag: "PostgresLocation"
  readonly url: Redacted.Redacted<string>
  /** `postgres://clapper@db.internal:5432/campaigns`: for messages and `status`. */
  readonly described: string
}

/** `postgres://user@host:port/database`, without the password (nor anything after the path). */
export const describeStateUrl = (url: URL): string => {
  const user = url.username === "" ? "" : `${decodeURIComponent(url.username)}@`
  const port = url.port === "" ? "5432" : url.port
  return `postgres://${user}${url.hostname}:${port}${url.pathname === "" ? "/" : url.pathname}`
}

/** Checks a connection string's shape (the database is reached later): a clear error for anything else. */
export const parseStateUrl = (text: string, source: string): PostgresLocation | StateUrlInvalid => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    // The text itself may hold a password: it is not repeated.
    return new StateUrlInvalid({ source, reason: "this is not a connection string" })
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    return new StateUrlInvalid({
      source,
      reason: `${url.protocol.replace(/:$/, "")}:// is not a state store Clapper knows (only postgres://)`
    })
  }
  if (url.hostname === "") return new StateUrlInvalid({ source, reason: "the connection string names no host" })
  if (url.pathname.replace(/^\//, "") === "") return new StateUrlInvalid({ source, reason: "the connection string names no database" })
  return { _tag: "PostgresLocation", url: Redacted.make(text), described: describeStateUrl(url) }
}
