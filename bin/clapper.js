#!/usr/bin/env node
// The CLI's sources are TypeScript, and `npm install` is the only setup (no build step, no
// install script, which npm 11 would not run anyway): see launch.js for how they are run.
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { launch } from "./launch.js"

await launch(join(dirname(fileURLToPath(import.meta.url)), ".."))
