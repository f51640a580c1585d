import { Either, Option } from "effect"
import { limits } from "../mirage/limits.ts"
import { issue, type ValidationIssue } from "./apiErrors.ts"

/**
 * Query parameters of the list endpoints, checked the way the API checks them (FastAPI/pydantic
 * wording and error types), each violation located at `["query", name]`.
 */
export type QueryParams = Readonly<Record<string, string | ReadonlyArray<string>>>

/** A repeated parameter counts by its last value, as FastAPI reads it; an empty one is absent. */
export const queryValue = (query: QueryParams, name: string): Option.Option<string> => {
  const value = query[name]
  if (value === undefined) return Option.none()
  const last = typeof value === "string" ? value : value[value.length - 1]
  return last === undefined || last === "" ? Option.none() : Option.some(last)
}

export const defaultPageSize = 20

/** `limit`: an integer in 1..limits.maxPageSize, 20 when absent. */
export const pageLimit = (query: QueryParams): Either.Either<number, ValidationIssue> => {
  const raw = queryValue(query, "limit")
  if (Option.isNone(raw)) return Either.right(defaultPageSize)
  const loc = ["query", "limit"]
  if (!/^[+-]?\d+$/.test(raw.value.trim())) {
    return Either.left(issue(loc, "Input should be a valid integer, unable to parse string as an integer", "int_parsing"))
  }
  const value = Number(raw.value)
  if (value < 1) return Either.left(issue(loc, "Input should be greater than or equal to 1", "greater_than_equal"))
  if (value > limits.maxPageSize) {
    return Either.left(issue(loc, `Input should be less than or equal to ${limits.maxPageSize}`, "less_than_equal"))
  }
  return Either.right(value)
}

/** `order`: asc or desc, newest first (desc) when absent. */
export const listOrder = (query: QueryParams): Either.Either<"asc" | "desc", ValidationIssue> => {
  const raw = queryValue(query, "order")
  if (Option.isNone(raw)) return Either.right("desc")
  if (raw.value === "asc" || raw.value === "desc") return Either.right(raw.value)
  return Either.left(issue(["query", "order"], "Input should be 'asc' or 'desc'", "enum"))
}

/** The issues among several checks, and their values when there are none. */
export const collectIssues = (results: ReadonlyArray<Either.Either<unknown, ValidationIssue>>): ReadonlyArray<ValidationIssue> =>
  results.flatMap((r) => (Either.isLeft(r) ? [r.left] : []))
