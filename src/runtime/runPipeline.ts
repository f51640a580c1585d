// Temporary: moved to src/app/runPipeline.ts (removed once the test folders in progress import the new place).
export * from "../app/runPipeline.ts"
