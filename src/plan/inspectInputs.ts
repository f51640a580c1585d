/**
 * Reading the inputs moved to src/pipeline/inspectInputs.ts (loading a pipeline that does not
 * decode still reads the inputs of the parts that do, so every problem is reported at once);
 * this re-export keeps the plan's own name for it.
 */
export * from "../pipeline/inspectInputs.ts"
