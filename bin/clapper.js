#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: `npm install` is the only setup a user needs
// (no build step to remember, and no install script, which npm 11 would not run anyway).
import { register } from "tsx/esm/api"

register()
await import("../src/cli/bin.ts")
