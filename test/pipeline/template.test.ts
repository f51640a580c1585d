import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import {
  checkVariables,
  escapeLiteral,
  filterNames,
  formatPlaceholder,
  parseTemplate,
  renderTemplate,
  slug,
  variablePaths,
  type Placeholder,
  type Template,
  type TemplateError,
  type TemplateScope
} from "../../src/pipeline/template.ts"

// ---------------------------------------------------------------------------------------------
// Helpers

const parsed = (source: string): Template => {
  const result = parseTemplate(source)
  if (Either.isLeft(result)) throw new Error(`expected ${JSON.stringify(source)} to parse: ${JSON.stringify(result.left)}`)
  return result.right
}

const parseErrors = (source: string): ReadonlyArray<TemplateError> => {
  const result = parseTemplate(source)
  if (Either.isRight(result)) throw new Error(`expected ${JSON.stringify(source)} not to parse`)
  return result.left
}

const render = (source: string, scope: TemplateScope, pathSafe = false) => renderTemplate(parsed(source), scope, { pathSafe })

const rendered = (source: string, scope: TemplateScope, pathSafe = false): string => {
  const result = render(source, scope, pathSafe)
  if (Either.isLeft(result)) throw new Error(`expected ${JSON.stringify(source)} to render: ${JSON.stringify(result.left)}`)
  return result.right
}

const renderErrors = (source: string, scope: TemplateScope, pathSafe = false): ReadonlyArray<TemplateError> => {
  const result = render(source, scope, pathSafe)
  if (Either.isRight(result)) throw new Error(`expected ${JSON.stringify(source)} not to render, got ${JSON.stringify(result.right)}`)
  return result.left
}

/** The span of the `nth` occurrence of `text` in `source`. */
const spanOf = (source: string, text: string, nth = 0) => {
  let start = -1
  for (let k = 0; k <= nth; k++) start = source.indexOf(text, start + 1)
  if (start < 0) throw new Error(`${JSON.stringify(text)} not in ${JSON.stringify(source)}`)
  return { start, end: start + text.length }
}

const kinds = (errors: ReadonlyArray<TemplateError>) => errors.map((e) => e.kind)

const pipelineVariables = [
  "set",
  "index",
  "image.path",
  "image.name",
  "image.stem",
  "image.ext",
  "audio.path",
  "audio.name",
  "audio.stem",
  "audio.ext",
  "row.*",
  "vars.brand"
]

const exampleScope: TemplateScope = {
  set: "outreach",
  index: 3,
  image: { path: "assets/alice.png", name: "alice.png", stem: "alice", ext: "png" },
  audio: { path: "audio/hello.wav", name: "hello.wav", stem: "hello", ext: "wav" },
  row: { id: "42", name: "Zoë Saldaña", first_name: "Zoë" },
  vars: { brand: "ACME" }
}

// ---------------------------------------------------------------------------------------------
// Parsing

describe("parseTemplate", () => {
  it("splits literal text and placeholders, with spans from {{ to }}", () => {
    const source = "renders/{{ set }}/{{ row.name | slug }}--{{audio.stem}}.mp4"
    const template = parsed(source)
    const set: Placeholder = { path: ["set"], filters: [], span: { start: 8, end: 17 } }
    const name: Placeholder = { path: ["row", "name"], filters: ["slug"], span: { start: 18, end: 39 } }
    const stem: Placeholder = { path: ["audio", "stem"], filters: [], span: { start: 41, end: 55 } }
    expect(template.source).toBe(source)
    expect(template.parts).toEqual(["renders/", set, "/", name, "--", stem, ".mp4"])
    expect(template.placeholders).toEqual([set, name, stem])
    expect(source.slice(18, 39)).toBe("{{ row.name | slug }}")
  })

  it("takes blanks inside the braces as optional", () => {
    const expected = { path: ["row", "first_name"], filters: ["slug", "upper"] }
    for (const source of [
      "{{row.first_name|slug|upper}}",
      "{{ row.first_name | slug | upper }}",
      "{{\trow.first_name\t|\tslug |upper  }}",
      "{{\n  row.first_name\n  | slug\r\n  | upper\n}}"
    ]) {
      expect(parsed(source).placeholders).toEqual([{ ...expected, span: { start: 0, end: source.length } }])
    }
  })

  it("accepts names with letters, digits, _ and -", () => {
    expect(parsed("{{ _a.B-2.c_d }}").placeholders[0]?.path).toEqual(["_a", "B-2", "c_d"])
    expect(parsed("{{row.first-name}}").placeholders[0]?.path).toEqual(["row", "first-name"])
  })

  it("keeps everything else literal, single braces included", () => {
    expect(parsed("a { b } c {x} }{ .. / \\ | %").parts).toEqual(["a { b } c {x} }{ .. / \\ | %"])
    expect(parsed("").parts).toEqual([])
    expect(parsed("{{a}}{{b}}").parts.map((p) => (typeof p === "string" ? p : p.path.join(".")))).toEqual(["a", "b"])
  })

  it("reads {{{{ as a literal {{ and }}}} as a literal }}", () => {
    expect(parsed("{{{{ name }}}}").parts).toEqual(["{{ name }}"])
    expect(parsed("a{{{{b").parts).toEqual(["a{{b"])
    expect(parsed("{{{{{{ x }}").parts).toEqual(["{{", { path: ["x"], filters: [], span: { start: 4, end: 11 } }])
    expect(parsed("{{{{{").parts).toEqual(["{{{"])
  })

  it("lets a literal brace stand next to a placeholder", () => {
    expect(parsed("{{{x}}").parts).toEqual(["{", { path: ["x"], filters: [], span: { start: 1, end: 6 } }])
    expect(parsed("{{x}}}").parts).toEqual([{ path: ["x"], filters: [], span: { start: 0, end: 5 } }, "}"])
    expect(rendered("\\textbf{{{x}}}", { x: "bold" })).toBe("\\textbf{bold}")
    expect(rendered("{{{{{{{x}}}}}}}", { x: "v" })).toBe("{{{v}}}")
  })

  describe("syntax errors", () => {
    it("reports an unclosed {{ at its braces", () => {
      expect(parseErrors("renders/{{ row.id")).toEqual([
        { kind: "syntax", message: `unclosed "{{": no "}}" follows it (for a literal "{{" write "{{{{")`, span: { start: 8, end: 10 } }
      ])
    })

    it("reports an unclosed {{ before another placeholder, and goes on", () => {
      const source = "a/{{ row.id/{{ set }}/{{ x | slg }}"
      const errors = parseErrors(source)
      expect(errors).toEqual([
        {
          kind: "syntax",
          message: `unclosed "{{": another "{{" comes before its "}}" (for a literal "{{" write "{{{{")`,
          span: { start: 2, end: 4 }
        },
        {
          kind: "unknownFilter",
          message: `unknown filter "slg" (did you mean "slug"? available: slug, lower, upper)`,
          span: spanOf(source, "slg")
        }
      ])
    })

    it("reports a stray }}", () => {
      expect(parseErrors("a }} b")).toEqual([
        { kind: "syntax", message: `stray "}}" with no "{{" before it (for a literal "}}" write "}}}}")`, span: { start: 2, end: 4 } }
      ])
      expect(parseErrors("{ row.id }}")[0]?.span).toEqual({ start: 9, end: 11 })
      expect(parseErrors("{{x}}}}")[0]?.span).toEqual({ start: 5, end: 7 })
    })

    it("reports an empty placeholder", () => {
      expect(parseErrors("a{{}}b")).toEqual([
        { kind: "syntax", message: `empty placeholder "{{}}": write a variable name, as in {{ row.name }}`, span: { start: 1, end: 5 } }
      ])
      expect(parseErrors("{{ \t }}")[0]?.span).toEqual({ start: 0, end: 7 })
    })

    it("reports an invalid name at its placeholder", () => {
      for (const name of ["1a", "row..name", "row.", ".row", "row.1", "a$b", "é", "row name", "row.name slug", "{x"]) {
        const source = `x/{{ ${name} }}/y`
        const errors = parseErrors(source)
        expect(kinds(errors)).toEqual(["syntax"])
        expect(errors[0]?.span).toEqual({ start: 2, end: source.length - 2 })
        expect(errors[0]?.message).toContain(`invalid variable name "${name}"`)
      }
      expect(parseErrors("{{ row name }}")[0]?.message).toContain("filters follow a")
    })

    it("reports a missing name before the first |", () => {
      expect(parseErrors("{{ | slug }}")).toEqual([
        { kind: "syntax", message: `placeholder has no variable name before "|"`, span: { start: 0, end: 12 } }
      ])
    })

    it("reports a missing filter at its |", () => {
      expect(parseErrors("{{ a | }}")).toEqual([
        { kind: "syntax", message: `missing filter name after "|" (filters: slug, lower, upper)`, span: { start: 5, end: 6 } }
      ])
      expect(parseErrors("{{ a || slug }}")[0]?.span).toEqual({ start: 5, end: 6 })
    })

    it("reports an invalid filter name at the name", () => {
      const source = "{{ a | sl ug }}"
      expect(parseErrors(source)).toEqual([
        { kind: "syntax", message: `invalid filter name "sl ug" (filters: slug, lower, upper)`, span: spanOf(source, "sl ug") }
      ])
    })

    it("reports every error in the template, in source order", () => {
      const source = "{{ 1x }}/{{}}/}}/{{ a | Slug | lowr | zzz }}/{{ ok }}/{{ b"
      const errors = parseErrors(source)
      expect(errors.map((e) => [e.kind, source.slice(e.span.start, e.span.end)])).toEqual([
        ["syntax", "{{ 1x }}"],
        ["syntax", "{{}}"],
        ["syntax", "}}"],
        ["unknownFilter", "Slug"],
        ["unknownFilter", "lowr"],
        ["unknownFilter", "zzz"],
        ["syntax", "{{"]
      ])
      expect(errors[3]?.message).toBe(`unknown filter "Slug" (did you mean "slug"? available: slug, lower, upper)`)
      expect(errors[4]?.message).toBe(`unknown filter "lowr" (did you mean "lower"? available: slug, lower, upper)`)
      expect(errors[5]?.message).toBe(`unknown filter "zzz" (available: slug, lower, upper)`)
    })

    it("knows only its own filters, not Object.prototype's", () => {
      expect(kinds(parseErrors("{{ a | constructor }}"))).toEqual(["unknownFilter"])
      expect(kinds(parseErrors("{{ a | toString }}"))).toEqual(["unknownFilter"])
      expect(kinds(parseErrors("{{ a | __proto__ }}"))).toEqual(["unknownFilter"])
    })
  })
})

describe("escapeLiteral and formatPlaceholder", () => {
  it("escape text so it renders as itself", () => {
    expect(escapeLiteral("{{ not a placeholder }}")).toBe("{{{{ not a placeholder }}}}")
    expect(rendered(escapeLiteral("{{ x }}") + "{{x}}", { x: "1" })).toBe("{{ x }}1")
  })

  it("write a placeholder back", () => {
    expect(formatPlaceholder({ path: ["row", "name"], filters: ["slug", "upper"] })).toBe("{{ row.name | slug | upper }}")
    expect(parsed(formatPlaceholder({ path: ["a"], filters: [] })).placeholders[0]?.path).toEqual(["a"])
  })
})

// ---------------------------------------------------------------------------------------------
// Variables

describe("checkVariables", () => {
  it("accepts the variables that exist, wildcards included", () => {
    const template = parsed("renders/{{set}}/{{ index }}-{{image.stem}}-{{ audio.ext }}/{{row.first_name|slug}}-{{ vars.brand }}")
    expect(checkVariables(template, pipelineVariables)).toEqual([])
  })

  it("names an unknown variable, with a suggestion and the variables of its group", () => {
    const source = "renders/{{ row.nmae }}.mp4"
    expect(checkVariables(parsed(source), ["set", "row.id", "row.name"])).toEqual([
      {
        kind: "unknownVariable",
        message: `unknown variable "row.nmae" (did you mean "row.name"? available: row.id, row.name)`,
        span: { start: 8, end: 22 }
      }
    ])
  })

  it("suggests across segments and lists every variable when the group is unknown", () => {
    const errors = checkVariables(parsed("{{ imgae.stme }}"), pipelineVariables)
    expect(errors).toEqual([
      {
        kind: "unknownVariable",
        message:
          `unknown variable "imgae.stme" (did you mean "image.stem"? available: set, index, ` +
          `image.{path,name,stem,ext}, audio.{path,name,stem,ext}, row.*, vars.brand)`,
        span: { start: 0, end: 16 }
      }
    ])
  })

  it("suggests through a wildcard and for a mistyped whole path", () => {
    expect(checkVariables(parsed("{{ rwo.name }}"), pipelineVariables)[0]?.message).toContain(`did you mean "row.name"?`)
    expect(checkVariables(parsed("{{ image_stem }}"), pipelineVariables)[0]?.message).toContain(`did you mean "image.stem"?`)
    expect(checkVariables(parsed("{{ vars.brnd }}"), pipelineVariables)[0]?.message).toBe(
      `unknown variable "vars.brnd" (did you mean "vars.brand"? available: vars.brand)`
    )
    expect(checkVariables(parsed("{{ nothing.like.it }}"), ["set"])[0]?.message).toBe(`unknown variable "nothing.like.it" (available: set)`)
    expect(checkVariables(parsed("{{ set }}"), [])[0]?.message).toBe(`unknown variable "set" (no variables are available here)`)
  })

  it("rejects a group used as a value, and fields of a value", () => {
    const source = "{{ image }}/{{ row }}/{{ image.stem.x }}/{{ row.id.x }}"
    const errors = checkVariables(parsed(source), pipelineVariables)
    expect(errors).toEqual([
      {
        kind: "unknownVariable",
        message: `"image" is a group of variables, not a value (use one of: image.path, image.name, image.stem, image.ext)`,
        span: spanOf(source, "{{ image }}")
      },
      {
        kind: "unknownVariable",
        message: `"row" is a group of variables, not a value (use one of: row.*)`,
        span: spanOf(source, "{{ row }}")
      },
      {
        kind: "unknownVariable",
        message: `unknown variable "image.stem.x": "image.stem" is a value, not a group with fields`,
        span: spanOf(source, "{{ image.stem.x }}")
      },
      {
        kind: "unknownVariable",
        message: `unknown variable "row.id.x": "row.id" is a value, not a group with fields`,
        span: spanOf(source, "{{ row.id.x }}")
      }
    ])
  })

  it("takes the variables of an example scope", () => {
    expect(variablePaths(exampleScope)).toEqual([
      "set",
      "index",
      "image.path",
      "image.name",
      "image.stem",
      "image.ext",
      "audio.path",
      "audio.name",
      "audio.stem",
      "audio.ext",
      "row.id",
      "row.name",
      "row.first_name",
      "vars.brand"
    ])
    expect(checkVariables(parsed("{{ row.name }}{{ row.nmae }}"), variablePaths(exampleScope))).toHaveLength(1)
  })

  it("lists a long group with an ellipsis", () => {
    const columns = Array.from({ length: 20 }, (_, k) => `row.c${k}`)
    const message = checkVariables(parsed("{{ row.zz }}"), columns)[0]?.message ?? ""
    expect(message).toBe(`unknown variable "row.zz" (available: ${columns.slice(0, 12).join(", ")}, …)`)
  })
})

// ---------------------------------------------------------------------------------------------
// Rendering

describe("renderTemplate", () => {
  it("substitutes values, numbers included", () => {
    expect(rendered("renders/{{ set }}/{{ index }}-{{image.stem}}--{{audio.stem}}.mp4", exampleScope, true)).toBe(
      "renders/outreach/3-alice--hello.mp4"
    )
    expect(rendered("{{ a.b.c }}/{{ n }}/{{ f }}", { a: { b: { c: "deep" } }, n: -1, f: 2.5 })).toBe("deep/-1/2.5")
  })

  it("applies filters left to right", () => {
    const scope = { x: "Zoë Saldaña!" }
    expect(rendered("{{ x | slug }}", scope)).toBe("zoe-saldana")
    expect(rendered("{{ x | lower }}", scope)).toBe("zoë saldaña!")
    expect(rendered("{{ x | upper }}", scope)).toBe("ZOË SALDAÑA!")
    expect(rendered("{{ x | slug | upper }}", scope)).toBe("ZOE-SALDANA")
    expect(rendered("{{ x | upper | slug }}", scope)).toBe("zoe-saldana")
    expect(filterNames).toEqual(["slug", "lower", "upper"])
  })

  it("renders the design's example", () => {
    const source = "renders/{{ set }}/{{ row.name | slug }}--{{audio.stem}}.mp4"
    expect(rendered(source, exampleScope, true)).toBe("renders/outreach/zoe-saldana--hello.mp4")
  })

  it("reports unknown variables and groups, every one, at their placeholders", () => {
    const source = "{{ row.nmae }}/{{ image }}/{{ set.x }}/{{ set }}"
    expect(renderErrors(source, exampleScope)).toEqual([
      {
        kind: "unknownVariable",
        message: `unknown variable "row.nmae" (did you mean "row.name"? available: row.id, row.name, row.first_name)`,
        span: spanOf(source, "{{ row.nmae }}")
      },
      {
        kind: "unknownVariable",
        message: `"image" is a group of variables, not a value (use one of: image.path, image.name, image.stem, image.ext)`,
        span: spanOf(source, "{{ image }}")
      },
      {
        kind: "unknownVariable",
        message: `unknown variable "set.x": "set" is a value, not a group with fields`,
        span: spanOf(source, "{{ set.x }}")
      }
    ])
    expect(renderErrors("{{ vars }}", { vars: {} })[0]?.message).toBe(`"vars" is a group of variables, not a value, and it is empty`)
  })

  it("never reads Object.prototype", () => {
    for (const name of ["constructor", "__proto__", "toString", "row.constructor", "row.hasOwnProperty"]) {
      expect(kinds(renderErrors(`{{ ${name} }}`, { row: { id: "1" } }))).toEqual(["unknownVariable"])
    }
  })

  it("reports an unknown filter of a hand-made template", () => {
    const placeholder: Placeholder = { path: ["x"], filters: ["reverse"], span: { start: 0, end: 19 } }
    const template: Template = { source: "{{ x | reverse }}..", parts: [placeholder], placeholders: [placeholder] }
    expect(renderTemplate(template, { x: "a" }, { pathSafe: false })).toEqual(
      Either.left([
        { kind: "unknownFilter", message: `unknown filter "reverse" (available: slug, lower, upper)`, span: { start: 0, end: 19 } }
      ])
    )
  })

  describe("pathSafe", () => {
    it("lets the template's own text hold / and ..", () => {
      expect(rendered("../shared/{{ set }}/./x\\y", exampleScope, true)).toBe("../shared/outreach/./x\\y")
    })

    it("rejects a value with .., / or \\, naming it and suggesting slug", () => {
      const source = "renders/{{ row.id }}.mp4"
      expect(renderErrors(source, { row: { id: "../../etc/passwd" } }, true)).toEqual([
        {
          kind: "unsafeValue",
          message:
            `the value of "row.id" ("../../etc/passwd") contains "..", so it may not be part of a file path: ` +
            `data never chooses where files go (use {{ row.id | slug }})`,
          span: { start: 8, end: 20 }
        }
      ])
      expect(renderErrors(source, { row: { id: "a/b" } }, true)[0]?.message).toContain(`("a/b") contains "/"`)
      expect(renderErrors(source, { row: { id: "a\\b" } }, true)[0]?.message).toContain(`contains a backslash`)
      expect(renderErrors(source, { row: { id: "Mr.. X" } }, true)[0]?.message).toContain(`contains ".."`)
      expect(renderErrors(source, { row: { id: "a\u0000b" } }, true)[0]?.message).toContain(`contains a control character`)
      expect(renderErrors(source, { row: { id: "a\nb" } }, true)[0]?.kind).toBe("unsafeValue")
    })

    it("checks the value after its filters", () => {
      expect(rendered("renders/{{ row.id | slug }}.mp4", { row: { id: "../../etc/passwd" } }, true)).toBe("renders/etc-passwd.mp4")
      const errors = renderErrors("{{ x | upper }}", { x: "a/b" }, true)
      expect(errors[0]?.message).toBe(
        `the value of "x" after "| upper" ("A/B") contains "/", so it may not be part of a file path: ` +
          `data never chooses where files go (use {{ x | upper | slug }})`
      )
    })

    it("rejects an empty value, before or after filters", () => {
      expect(renderErrors("a/{{ row.id }}.mp4", { row: { id: "" } }, true)).toEqual([
        { kind: "emptyValue", message: `"row.id" is empty, and a file path cannot have an empty part`, span: { start: 2, end: 14 } }
      ])
      expect(renderErrors("a/{{ row.id | slug }}.mp4", { row: { id: "¡¿!" } }, true)).toEqual([
        {
          kind: "emptyValue",
          message: `"row.id" ("¡¿!") is empty after "| slug", and a file path cannot have an empty part`,
          span: { start: 2, end: 21 }
        }
      ])
    })

    it("rejects a value that makes a . or .. segment with the text around it", () => {
      const source = "out/.{{ a }}/{{ a }}/{{ a }}{{ a }}/x{{ a }}/{{ a }}.mp4"
      const errors = renderErrors(source, { a: "." }, true)
      expect(errors.map((e) => source.slice(e.span.start, e.span.end))).toEqual(["{{ a }}", "{{ a }}", "{{ a }}", "{{ a }}"])
      expect(errors.map((e) => e.span.start)).toEqual([
        spanOf(source, "{{ a }}", 0).start,
        spanOf(source, "{{ a }}", 1).start,
        spanOf(source, "{{ a }}", 2).start,
        spanOf(source, "{{ a }}", 3).start
      ])
      expect(errors[0]?.message).toBe(
        `the value of "a" (".") makes the path segment ".." with the text around it, so it may not be part of a file path: ` +
          `data never chooses where files go (use {{ a | slug }})`
      )
      expect(errors[1]?.message).toContain(`makes the path segment ".", so`)
      expect(rendered("{{ a }}.mp4/x{{ a }}", { a: "." }, true)).toBe("..mp4/x.")
    })

    it("reports every problem at once", () => {
      const source = "{{ a }}/{{ b }}/{{ c }}/{{ d }}"
      const errors = renderErrors(source, { a: "..", b: "", c: "ok" }, true)
      expect(kinds(errors)).toEqual(["unsafeValue", "emptyValue", "unknownVariable"])
    })

    it("does not apply without pathSafe", () => {
      expect(rendered("{{ a }}|{{ b }}|{{ c }}", { a: "../x", b: "", c: "." })).toBe("../x||.")
    })
  })
})

describe("slug", () => {
  it("lowercases ASCII, strips diacritics and joins words with -", () => {
    expect(slug("Hello, World!")).toBe("hello-world")
    expect(slug("  Zoë   Saldaña  ")).toBe("zoe-saldana")
    expect(slug("Crème Brûlée — 2024")).toBe("creme-brulee-2024")
    expect(slug("ﬁve ①")).toBe("five-1")
    expect(slug("İstanbul")).toBe("istanbul")
    expect(slug("Jürgen Strauß, Ærø, Łódź, Þór")).toBe("jurgen-strauss-aero-lodz-thor")
    expect(slug("../../etc/passwd")).toBe("etc-passwd")
    expect(slug("a--b__c")).toBe("a-b-c")
    expect(slug("日本語")).toBe("")
    expect(slug("")).toBe("")
    expect(slug("---")).toBe("")
  })
})

// ---------------------------------------------------------------------------------------------
// Properties

const braceHeavy = fc.string({ unit: fc.constantFrom("{", "}", "{{", "}}", " ", "|", ".", "a", "b", "1", "-", "\n", "é") })
const anyText = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), braceHeavy)
const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,6}$/)
const filterList = fc.array(fc.constantFrom(...filterNames), { maxLength: 3 })
const nastyValue = fc.oneof(
  fc.string(),
  fc.constantFrom("", ".", "..", "/", "\\", "../x", "a/b", "a\\b", "...", "Zoë", "a.b", " ", "\u0000", "-"),
  fc.string({ unit: fc.constantFrom(".", "/", "\\", "a", "É", " ") }),
  fc.integer().map((n) => n)
)
const noBraceLiteral = fc.string().filter((s) => !s.includes("{{") && !s.includes("}}"))

/** Literal pieces around placeholders: [text0, ph0, text1, ph1, …, textN]. */
const templatePieces = fc.record({
  texts: fc.array(anyText, { minLength: 1, maxLength: 5 }),
  names: fc.array(fc.array(identifier, { minLength: 1, maxLength: 2 }), { minLength: 4, maxLength: 4 }),
  filters: fc.array(filterList, { minLength: 4, maxLength: 4 })
})

const spansInRange = (source: string, errorsOrTemplate: Either.Either<Template, ReadonlyArray<TemplateError>>) => {
  const spans = Either.isLeft(errorsOrTemplate)
    ? errorsOrTemplate.left.map((e) => e.span)
    : errorsOrTemplate.right.placeholders.map((p) => p.span)
  for (const span of spans) {
    expect(0 <= span.start && span.start <= span.end && span.end <= source.length).toBe(true)
  }
  if (Either.isLeft(errorsOrTemplate)) expect(errorsOrTemplate.left.length).toBeGreaterThan(0)
}

describe("properties", () => {
  it.prop("parsing never throws and keeps spans within the source", { source: anyText }, ({ source }) => {
    const result = parseTemplate(source)
    spansInRange(source, result)
    if (Either.isRight(result)) {
      for (const p of result.right.placeholders) {
        const text = source.slice(p.span.start, p.span.end)
        expect(text.startsWith("{{") && text.endsWith("}}")).toBe(true)
      }
    }
  })

  it.prop("parsing is deterministic", { source: anyText }, ({ source }) => {
    expect(parseTemplate(source)).toEqual(parseTemplate(source))
  })

  it.prop("text without {{ or }} renders to itself", { source: noBraceLiteral, pathSafe: fc.boolean() }, ({ source, pathSafe }) => {
    const template = parsed(source)
    expect(template.placeholders).toEqual([])
    expect(rendered(source, {}, pathSafe)).toBe(source)
  })

  it.prop("escapeLiteral gives a template that renders to the text", { text: anyText }, ({ text }) => {
    const template = parsed(escapeLiteral(text))
    expect(template.placeholders).toEqual([])
    expect(Either.getOrThrow(renderTemplate(template, {}, { pathSafe: true }))).toBe(text)
  })

  it.prop("literal text around placeholders round-trips", { pieces: templatePieces, value: fc.string() }, ({ pieces, value }) => {
    const { texts, names, filters } = pieces
    // Placeholder k names `v<k>.<segments…>`, so no two collide.
    const paths = names.map((segments, k) => [`v${k}`, ...segments])
    let source = ""
    const expected: Array<{ path: ReadonlyArray<string>; filters: ReadonlyArray<string>; start: number }> = []
    texts.forEach((text, k) => {
      if (k > 0) {
        const path = paths[k - 1] ?? []
        const chosen = filters[k - 1] ?? []
        expected.push({ path, filters: chosen, start: source.length })
        source += formatPlaceholder({ path, filters: chosen })
      }
      source += escapeLiteral(text)
    })
    const template = parsed(source)
    expect(template.placeholders.map((p) => ({ path: p.path, filters: p.filters, start: p.span.start }))).toEqual(expected)
    expect(template.parts.filter((p): p is string => typeof p === "string")).toEqual(texts.filter((t) => t !== ""))

    const nest = (segments: ReadonlyArray<string>): string | TemplateScope =>
      segments.length === 0 ? value : { [segments[0] ?? ""]: nest(segments.slice(1)) }
    const scope: TemplateScope = Object.fromEntries(paths.map(([head = "", ...rest]) => [head, nest(rest)]))
    const applied = (chosen: ReadonlyArray<string>) =>
      chosen.reduce((v, f) => (f === "slug" ? slug(v) : f === "lower" ? v.toLowerCase() : v.toUpperCase()), value)
    let expectedOutput = texts[0] ?? ""
    for (let k = 1; k < texts.length; k++) expectedOutput += applied(filters[k - 1] ?? []) + (texts[k] ?? "")
    expect(Either.getOrThrow(renderTemplate(template, scope, { pathSafe: false }))).toBe(expectedOutput)
  })

  it.prop("slug is idempotent and yields words of [a-z0-9] joined by -", { text: anyText }, ({ text }) => {
    const once = slug(text)
    expect(slug(once)).toBe(once)
    expect(once === "" || /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(once)).toBe(true)
  })

  it.prop(
    "with pathSafe, substituted values never hold /, \\ or .. and are never empty",
    {
      texts: fc.array(fc.string({ unit: fc.constantFrom("a", ".", "/", "\\", "-") }), { minLength: 4, maxLength: 4 }),
      values: fc.array(nastyValue, { minLength: 3, maxLength: 3 }),
      filters: fc.array(filterList, { minLength: 3, maxLength: 3 })
    },
    ({ texts, values, filters }) => {
      const names = ["a", "b", "c"] as const
      const scope: TemplateScope = { a: values[0] ?? "", b: values[1] ?? "", c: values[2] ?? "" }
      const placeholders = names.map((name, k) => formatPlaceholder({ path: [name], filters: filters[k] ?? [] }))
      const source = [texts[0], placeholders[0], texts[1], placeholders[1], texts[2], placeholders[2], texts[3]].join("")
      const template = parsed(source)
      const ownValues = template.placeholders.map((p) =>
        Either.getOrThrow(renderTemplate({ ...template, parts: [p] }, scope, { pathSafe: false }))
      )
      const result = renderTemplate(template, scope, { pathSafe: true })
      const unsafe = ownValues.some((v) => v === "" || v.includes("/") || v.includes("\\") || v.includes(".."))
      if (Either.isRight(result)) {
        expect(unsafe).toBe(false)
        // Every path segment that holds substituted text is neither "." nor "..".
        expect(result.right).toBe(texts[0]! + ownValues[0]! + texts[1]! + ownValues[1]! + texts[2]! + ownValues[2]! + texts[3]!)
      } else {
        expect(result.left.every((e) => e.kind === "unsafeValue" || e.kind === "emptyValue")).toBe(true)
        spansInRange(source, result as Either.Either<never, ReadonlyArray<TemplateError>>)
      }
      if (unsafe) expect(Either.isLeft(result)).toBe(true)
    }
  )

  it.prop(
    "with pathSafe, data never adds a path segment or a . / .. segment",
    { values: fc.array(nastyValue, { minLength: 2, maxLength: 2 }), prefix: fc.constantFrom("", ".", "..", "a/.", "a/", "x") },
    ({ values, prefix }) => {
      const scope: TemplateScope = { a: values[0] ?? "", b: values[1] ?? "" }
      const source = `${escapeLiteral(prefix)}{{ a }}{{ b }}/end`
      const result = renderTemplate(parsed(source), scope, { pathSafe: true })
      if (Either.isRight(result)) {
        const segments = result.right.split(/[/\\]/)
        expect(segments.length).toBe(prefix.split("/").length + 1)
        const dataSegment = segments[segments.length - 2] ?? ""
        expect(dataSegment === "." || dataSegment === "..").toBe(false)
      }
    }
  )

  it.prop(
    "rendering is deterministic",
    { pieces: templatePieces, values: fc.array(nastyValue, { minLength: 1 }) },
    ({ pieces, values }) => {
      const source = pieces.texts.map(escapeLiteral).join("{{ a | slug }}{{ b.c }}")
      const scope: TemplateScope = { a: values[0] ?? "", b: { c: values[values.length - 1] ?? "" } }
      const template = parsed(source)
      for (const pathSafe of [false, true]) {
        expect(renderTemplate(template, scope, { pathSafe })).toEqual(renderTemplate(parsed(source), { ...scope }, { pathSafe }))
      }
    }
  )
})
