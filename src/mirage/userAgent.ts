/**
 * The `User-Agent` of every request the client makes (API calls and downloads): `clapper/<version>`,
 * the version being the installed package's own.
 *
 * Found at run time by walking up from this module to the package.json named `clapper`: the code
 * runs from the sources (src/mirage/), compiled (dist/src/mirage/), or bundled (dist/clapper.mjs,
 * or node_modules/.cache/clapper/ in a clone), and each sits under that package.json. A JSON
 * import would make the compiler copy package.json into dist/, where Node would take it for the
 * package's own.
 */
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const findVersion = (from: string): string => {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const manifest: unknown = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
      if (typeof manifest === "object" && manifest !== null && Reflect.get(manifest, "name") === "clapper") {
        const version: unknown = Reflect.get(manifest, "version")
        if (typeof version === "string") return version
      }
    } catch {
      // no package.json here, or not one that parses: look further up
    }
    if (dirname(dir) === dir) return "0.0.0-unknown"
  }
}

export const clapperVersion: string = findVersion(dirname(fileURLToPath(import.meta.url)))

export const userAgent = `clapper/${clapperVersion}`
