import { Option } from "effect"
import { extraField, issue, type ValidationIssue } from "./apiErrors.ts"
import type { UploadedFile, UploadedForm } from "./multipartUpload.ts"

/**
 * The shape of a multipart form, checked before its contents: which names it may carry, which of
 * them are files, which may repeat. Every unknown name, misplaced kind and duplicate is reported.
 */
export interface FormSpec {
  /** Fields that must be a single file part. */
  readonly files: ReadonlyArray<string>
  /** Fields that must be a single text value. */
  readonly texts: ReadonlyArray<string>
  /** Fields that are text values and may repeat (a list). */
  readonly lists?: ReadonlyArray<string>
}

export interface CheckedForm {
  readonly issues: ReadonlyArray<ValidationIssue>
  readonly file: (name: string) => Option.Option<UploadedFile>
  readonly text: (name: string) => Option.Option<string>
  /** Present (possibly empty) only when the field was sent. */
  readonly list: (name: string) => Option.Option<ReadonlyArray<string>>
}

export const checkFormShape = (form: UploadedForm, spec: FormSpec): CheckedForm => {
  const lists = spec.lists ?? []
  const known = new Set([...spec.files, ...spec.texts, ...lists])
  const names = [...new Set([...form.files.map((f) => f.field), ...form.fields.map((f) => f.field)])]
  const issues: Array<ValidationIssue> = []
  for (const name of names) {
    const loc = ["body", name]
    const files = form.files.filter((f) => f.field === name)
    const values = form.fields.filter((f) => f.field === name)
    if (!known.has(name)) {
      issues.push(extraField(loc))
    } else if (spec.files.includes(name)) {
      if (values.length > 0) issues.push(issue(loc, "Expected UploadFile, received: <class 'str'>"))
      else if (files.length > 1) issues.push(issue(loc, "Expected a single file, received several"))
    } else if (files.length > 0) {
      issues.push(issue(loc, "Input should be a valid string", "string_type"))
    } else if (spec.texts.includes(name) && values.length > 1) {
      issues.push(issue(loc, "Expected a single value, received several"))
    }
  }
  return {
    issues,
    file: (name) => Option.fromNullable(form.files.find((f) => f.field === name)),
    text: (name) => Option.fromNullable(form.fields.find((f) => f.field === name)?.value),
    list: (name) => {
      const values = form.fields.filter((f) => f.field === name).map((f) => f.value)
      return values.length > 0 || form.files.some((f) => f.field === name) ? Option.some(values) : Option.none()
    }
  }
}
