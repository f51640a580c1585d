/**
 * A real PostgreSQL server for the tests of one file: started before them, stopped and removed
 * after. The server is read when a test runs (it exists only from `beforeAll` on).
 */
import { afterAll, beforeAll } from "vitest"
import { startPostgres, type TestPostgres } from "./postgres.ts"

export const postgresForFile = (): TestPostgres => {
  let server: TestPostgres | undefined
  beforeAll(async () => {
    server = await startPostgres()
  }, 60_000)
  afterAll(async () => {
    await server?.dispose()
  })
  const running = (): TestPostgres => {
    if (server === undefined) throw new Error("the test PostgreSQL server is read before beforeAll started it")
    return server
  }
  return {
    get port() {
      return running().port
    },
    get user() {
      return running().user
    },
    get password() {
      return running().password
    },
    url: (database) => running().url(database),
    database: (name) => running().database(name),
    stop: () => running().stop(),
    start: () => running().start(),
    dispose: () => running().dispose()
  }
}
