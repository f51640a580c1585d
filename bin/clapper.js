#!/usr/bin/env node
// The published package runs its packed bundle; a clone runs its TypeScript sources, with
// `npm install` the only setup (no build step, no install script): see launch.js.
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { launch } from "./launch.js"

await launch(join(dirname(fileURLToPath(import.meta.url)), ".."))
