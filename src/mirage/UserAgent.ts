/**
 * The `User-Agent` of every request the client makes (API calls and downloads): `clapper/<version>`,
 * the version being the project's package.json's.
 *
 * A static JSON import rather than `createRequire(import.meta.url)("../../package.json")` at run
 * time: the CLI runs from an esbuild bundle in node_modules/.cache/clapper/ (bin/launch.js), where a
 * path relative to `import.meta.url` no longer reaches the package.json, while esbuild inlines an
 * imported one (and rebuilds the bundle when package.json changes). From the sources (tsx, vitest)
 * or compiled one folder deep (dist/mirage/), `../../package.json` is the project's either way.
 */
import packageJson from "../../package.json" with { type: "json" }

export const clapperVersion: string = packageJson.version

export const userAgent = `clapper/${clapperVersion}`
