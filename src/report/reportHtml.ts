/**
 * The report's model → one self-contained HTML page: inline CSS, one small inline script (the
 * gallery's filter), posters as data URIs; nothing is fetched, so it opens from a file:// URL or
 * as a CI artifact. The timeline is drawn on the server as positioned boxes (percentages of the
 * run's span), no charting library: a row per job, one box per step. Every text comes from user
 * data somewhere (job ids, file names, reasons), so all of it goes through `html` (escaped), and a
 * Content-Security-Policy allows no network and only the report's own script.
 */
import { createHash } from "node:crypto"
import type { ResultState } from "../app/jobResult.ts"
import { html, trusted, type SafeHtml } from "./html.ts"
import { reportCss, reportScript } from "./reportAssets.ts"
import type { GalleryTile, ReportModel, TimelineRowView, TimelineView } from "./reportData.ts"
import { formatInstant, formatSpan, formatTick, plural, usd } from "./reportText.ts"
import type { Interval, Mark, Segment, SegmentKind } from "./runTimeline.ts"

const stateWords: Readonly<Record<ResultState, string>> = {
  done: "done",
  failed: "failed",
  "in-flight": "in flight",
  "to-do": "to do",
  missing: "missing"
}

const kindWords: Readonly<Record<SegmentKind, string>> = {
  waiting: "waiting",
  speech: "speech",
  submit: "upload and submit",
  queued: "queued at the provider",
  rendering: "rendering",
  captions: "captions",
  overlays: "overlays",
  download: "download",
  retry: "waiting to retry",
  quota: "waiting for the quota"
}

/** Percent of the span, rounded for a smaller file. */
const pct = (ms: number, view: TimelineView): string => `${Math.max(0, Math.min(100, (ms / view.spanMs) * 100)).toFixed(3)}%`

const position = (startMs: number, endMs: number, view: TimelineView): string =>
  `left:${pct(startMs - view.startMs, view)};width:${pct(Math.max(0, endMs - startMs), view)}`

/** The folder every job id shares (`renders/outreach/`), shown once instead of on every row. */
const commonFolder = (ids: ReadonlyArray<string>): string => {
  if (ids.length === 0) return ""
  let prefix = ids[0]!.slice(0, ids[0]!.lastIndexOf("/") + 1)
  for (const id of ids)
    while (prefix !== "" && !id.startsWith(prefix)) prefix = prefix.slice(0, prefix.lastIndexOf("/", prefix.length - 2) + 1)
  return prefix
}

const segmentHtml = (s: Segment, view: TimelineView): SafeHtml =>
  html`<div class="seg k-${s.kind}" style="${position(s.startMs, s.endMs, view)}" title="${`${kindWords[s.kind]} ${formatSpan(s.endMs - s.startMs)}: ${s.detail}`}"></div>`

const markHtml = (m: Mark, view: TimelineView): SafeHtml =>
  html`<div class="mark m-${m.kind}" style="left:${pct(m.atMs - view.startMs, view)}" title="${m.detail}"></div>`

const rowHtml = (row: TimelineRowView, view: TimelineView, folder: string): SafeHtml =>
  html`<div class="tl-row" data-job="${row.job}" data-outcome="${row.outcome}"${row.state ? html` data-state="${row.state}"` : ""}><div class="tl-label mono" title="${row.job}">${row.job.startsWith(folder) ? row.job.slice(folder.length) : row.job}</div><div class="tl-track">${row.segments.map((s) => segmentHtml(s, view))}${row.marks.map((m) => markHtml(m, view))}</div></div>`

const bandHtml = (interval: Interval, kind: "throttled" | "outage", view: TimelineView): SafeHtml =>
  html`<div class="band ${kind}" style="${position(interval.startMs, interval.endMs, view)}" title="${`${interval.detail}: ${formatSpan(interval.endMs - interval.startMs)}`}"></div>`

const timelineHtml = (view: TimelineView, model: ReportModel): SafeHtml => {
  const folder = commonFolder(view.rows.map((r) => r.job))
  const grid = view.ticks
    .slice(1)
    .map(
      (t) =>
        `linear-gradient(to right, transparent calc(${pct(t, view)} - 0.5px), #eceef2 calc(${pct(t, view)} - 0.5px), #eceef2 calc(${pct(t, view)} + 0.5px), transparent calc(${pct(t, view)} + 0.5px))`
    )
    .join(",")
  const capped = view.rows.length < view.totalRows
  const hasRunLane = view.throttled.length > 0 || view.outages.length > 0
  return html`<section id="timeline"><h2>Timeline</h2>
<div class="legend">${view.kinds.map((k) => html`<span><i class="k-${k}"></i>${kindWords[k]}</span>`)}${view.rows.some((r) => r.outcome === "failed") ? html`<span><i class="mark-key">\u2715</i>failed</span>` : ""}</div>
${capped ? html`<p class="note">Showing ${view.rows.length.toLocaleString("en-US")} of ${plural(view.totalRows, "job")}: every job that failed, was retried, waited for the quota or was still at work first, then the others in plan order. <code>clapper results ${model.pipeline.file}</code> lists them all.</p>` : ""}
<div class="tl" style="--grid:${grid || "none"}">
<div class="tl-head"><div class="mono">${folder ? html`jobs in ${folder}` : "jobs"}</div><div class="tl-axis">${view.ticks.map((t) => html`<span style="left:${pct(t, view)}">${formatTick(t)}</span>`)}</div></div>
${hasRunLane ? html`<div class="tl-row tl-run"><div class="tl-label">quota and API</div><div class="tl-track">${view.throttled.map((i) => bandHtml(i, "throttled", view))}${view.outages.map((i) => bandHtml(i, "outage", view))}</div></div>` : ""}
${view.rows.map((row) => rowHtml(row, view, folder))}
</div></section>`
}

const thumbHtml = (tile: GalleryTile): SafeHtml => {
  const link = (inner: SafeHtml, cls: string) =>
    tile.href === undefined ? html`<div class="${cls}">${inner}</div>` : html`<a class="${cls}" href="${tile.href}">${inner}</a>`
  const poster = tile.poster
  switch (poster._tag) {
    case "Frame":
      return link(
        html`<img src="data:image/jpeg;base64,${poster.jpegBase64}" alt="${`poster frame of ${tile.output}`}" loading="lazy" decoding="async">`,
        "thumb"
      )
    case "NoFrame":
      return link(html`<span>\u25B6 no preview</span><small>${poster.reason}</small>`, "thumb placeholder")
    case "Omitted":
      return link(html`<span>\u25B6 open the video</span><small>poster left out to keep the report small</small>`, "thumb placeholder")
    case "MissingFile":
      return html`<div class="thumb missing"><span>missing file</span><small>rendered, but deleted since: the next run downloads it again (no new render)</small></div>`
    case "ChangedFile":
      return link(html`<span>file changed</span><small>not the file the run wrote: the next run replaces it</small>`, "thumb missing")
    case "NoVideo":
      return html`<div class="thumb novideo${tile.state === "failed" ? " failed" : ""}"><span>${tile.state === "failed" ? "failed" : tile.state === "in-flight" ? "rendering at the provider" : "not rendered yet"}</span></div>`
  }
}

const tileHtml = (tile: GalleryTile, folder: string): SafeHtml => {
  const name = tile.output.startsWith(folder) ? tile.output.slice(folder.length) : tile.output
  const facts = [tile.set, `#${tile.index}`, `${tile.durationSeconds.toFixed(1)} s`, tile.videoId].filter((f) => f !== undefined)
  return html`<figure class="tile" data-set="${tile.set}" data-state="${tile.state}" data-job="${tile.job}">${thumbHtml(tile)}<figcaption><span class="badge state-${tile.state}">${stateWords[tile.state]}</span>${tile.href === undefined || tile.poster._tag === "MissingFile" || tile.poster._tag === "NoVideo" ? html`<span class="name mono">${name}</span>` : html`<a class="name mono" href="${tile.href}">${name}</a>`}<span class="muted">${facts.join(" · ")}</span>${tile.error && tile.state === "failed" ? html`<div class="err">${tile.error.step}${tile.error.code ? html` [${tile.error.code}]` : ""}: ${tile.error.reason}</div>` : ""}</figcaption></figure>`
}

const galleryHtml = (model: ReportModel): SafeHtml => {
  const { tiles, sets, states } = model.gallery
  const folder = commonFolder(tiles.map((t) => t.output))
  const countOf = (state: ResultState) => tiles.filter((t) => t.state === state).length
  return html`<section id="gallery"><h2>Videos${folder ? html` <span class="muted mono">in ${folder}</span>` : ""}</h2>
<div class="filters"><div role="group" aria-label="Filter by state"><button type="button" data-filter-state="all" aria-pressed="true">all (${tiles.length})</button>${states.map((s) => html` <button type="button" data-filter-state="${s}" aria-pressed="false">${stateWords[s]} (${countOf(s)})</button>`)}</div>${sets.length > 1 ? html`<label>set <select id="set-filter"><option value="">all sets</option>${sets.map((s) => html`<option value="${s}">${s}</option>`)}</select></label>` : ""}<span id="shown" class="muted">${tiles.length} of ${tiles.length} shown</span></div>
<div class="gallery">${tiles.map((t) => tileHtml(t, folder))}</div></section>`
}

const failuresHtml = (model: ReportModel): SafeHtml =>
  model.failures.length === 0
    ? html``
    : html`<section id="failures"><h2>Failures by cause</h2>${model.failures.map(
        (
          g
        ) => html`<div class="failure" data-step="${g.step}"${g.code ? html` data-code="${g.code}"` : ""}><h3>${plural(g.count, "job")} failed at ${g.step}${g.code ? html` with the provider's code <code>${g.code}</code>` : ""}</h3>
<div class="reasons">${g.reasons.map((r) => html`<div class="mono">${r}</div>`)}</div>
<p class="advice"><strong>What to do:</strong> ${g.advice}</p>
<details><summary>The jobs</summary><ul>${g.jobs.map((j) => html`<li class="mono">${j}</li>`)}${g.more > 0 ? html`<li>and ${g.more.toLocaleString("en-US")} more</li>` : ""}</ul></details></div>`
      )}</section>`

const card = (n: number, label: string, cls: string) =>
  html`<div class="card ${cls}" data-count="${cls.replace("state-", "")}"><span class="n">${n.toLocaleString("en-US")}</span><span class="label">${label}</span></div>`

const summaryHtml = (model: ReportModel): SafeHtml => {
  const s = model.summary
  const quota = s.quota
  const quotaText = quota === undefined ? "—" : quota.throttles === 0 && quota.jobWaits === 0 ? "none" : formatSpan(quota.throttledMs)
  const quotaSub =
    quota === undefined || (quota.throttles === 0 && quota.jobWaits === 0)
      ? undefined
      : `throttled ${plural(quota.throttles, "time")}${quota.jobWaits > 0 ? `; ${plural(quota.jobWaits, "job wait")}, ${formatSpan(quota.jobWaitMs)} in all` : ""}`
  return html`<section id="summary"><div class="cards counts">
${card(s.counts.done, `done of ${plural(s.jobs, "job")}`, "state-done")}
${card(s.counts.failed, "failed", "state-failed")}
${card(s.counts["in-flight"], "in flight", "state-in-flight")}
${card(s.counts["to-do"], "to do (skipped)", "state-to-do")}
${s.counts.missing > 0 ? card(s.counts.missing, "missing (deleted or changed)", "state-missing") : ""}
</div><div class="cards facts"><div class="card" id="spend"><span class="label">spend</span><span class="figure">${usd(s.spentUsd)} recorded</span><span class="sub">${usd(s.estimatedCostUsd)} estimated for the whole campaign${s.runSpentUsd !== undefined ? `; ${usd(s.runSpentUsd)} in this run` : ""}</span></div>
<div class="card" id="duration"><span class="label">duration</span><span class="figure">${s.durationMs === undefined ? "—" : formatSpan(s.durationMs)}</span>${s.retries ? html`<span class="sub">${plural(s.retries, "retry", "retries")}</span>` : ""}</div>
<div class="card" id="quota"><span class="label">quota waits</span><span class="figure">${quotaText}</span>${quotaSub ? html`<span class="sub">${quotaSub}</span>` : ""}${s.outageMs ? html`<span class="sub">API down ${formatSpan(s.outageMs)}</span>` : ""}${s.duplicateRisks ? html`<span class="sub">${plural(s.duplicateRisks, "possible duplicate render")}</span>` : ""}</div>
</div></section>`
}

const headerHtml = (model: ReportModel): SafeHtml => {
  const run = model.run
  return html`<header><h1>${model.pipeline.name}</h1>${model.pipeline.description ? html`<p>${model.pipeline.description}</p>` : ""}
<p class="muted"><span class="mono">${model.pipeline.file}</span> · report made ${formatInstant(model.generatedAt)}</p>
${model.selection ? html`<p class="note" id="selection">${model.selection.jobs.toLocaleString("en-US")} of ${plural(model.selection.of, "job")} selected (<code>${model.selection.flags}</code>)${model.selection.nothingFailed ? ": no job failed last time" : ""}: the counts, spend and timeline are theirs.</p>` : ""}
${
  run
    ? html`<p class="muted" id="run">Run ${run.n} of ${run.runCount}: started ${formatInstant(run.startedAt)}${run.ended ? html`, ${run.ended}` : ""}${run.who ? html`, by ${run.who}` : ""} · <code>${run.command}</code></p>`
    : html`<p class="note" id="run">No run of this pipeline is recorded: the counts are the state now. <code>clapper run ${model.pipeline.file}</code> renders it.</p>`
}</header>`
}

const scriptHash = `sha256-${createHash("sha256").update(reportScript).digest("base64")}`

/** The page: nothing is loaded from anywhere (default-src 'none'), and only the report's own script runs. */
export const reportHtml = (model: ReportModel): string => {
  const csp = `default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '${scriptHash}'; base-uri 'none'; form-action 'none'`
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${trusted(csp)}">
<link rel="icon" href="data:,">
<title>${model.pipeline.name} · Clapper report</title>
<style>${trusted(reportCss)}</style></head>
<body><main>
${headerHtml(model)}
${summaryHtml(model)}
${failuresHtml(model)}
${
  model.timeline && model.timeline.totalRows > 0
    ? timelineHtml(model.timeline, model)
    : html`<section id="timeline"><h2>Timeline</h2><p class="muted">${model.run ? `Run ${model.run.n} worked on no job${model.run.ended ? ` (${model.run.ended})` : ""}.` : "No run recorded: nothing to draw yet."}</p></section>`
}
${galleryHtml(model)}
<footer>${model.warnings.length > 0 ? html`<h2>Warnings</h2><ul id="warnings">${model.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ""}<p>Made by Clapper. Times are UTC; hover a box of the timeline for what it was.</p></footer>
</main><script>${trusted(reportScript)}</script></body></html>
`.text
}
