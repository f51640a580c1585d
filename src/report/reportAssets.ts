/**
 * The report's own stylesheet and script, inlined into every report: no file beside it, no
 * network. The script only filters the gallery (and reads nothing but the page's data attributes),
 * so a report without script still shows everything.
 */

export const reportCss = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5d6677; --line: #e3e6ec; --bg: #f6f7f9; --card: #fff;
  --done: #2e7d32; --failed: #c62828; --in-flight: #1565c0; --to-do: #6d6f78; --missing: #b26a00;
  --waiting: #d5d9e0; --speech: #8e7cc3; --submit: #f0a04b; --queued: #9fc3ef; --rendering: #3d7fc4; --captions: #5da35a;
  --overlays: #c0679b; --download: #3b8a95; --retry: #e0533d; --quota: #d4a017; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 12px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
header p { margin: 2px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-top: 14px; align-items: start; }
.cards.facts { grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); margin-top: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .n { display: block; font-size: 26px; font-weight: 650; line-height: 1.2; }
.card.state-done .n { color: var(--done); } .card.state-failed .n { color: var(--failed); }
.card.state-in-flight .n { color: var(--in-flight); } .card.state-to-do .n { color: var(--to-do); } .card.state-missing .n { color: var(--missing); }
.card.wide { grid-column: span 2; }
.card .figure { display: block; font-size: 20px; font-weight: 650; line-height: 1.3; margin: 2px 0; }
.card .label, .card .sub { display: block; color: var(--muted); }
.card .sub { font-size: 12.5px; }
.note { background: #fff8e1; border: 1px solid #f1dca0; border-radius: 8px; padding: 8px 12px; margin: 12px 0; }
.failure { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--failed); border-radius: 8px; padding: 12px 16px; margin-bottom: 12px; }
.failure h3 { margin: 0 0 6px; font-size: 15px; }
.failure .advice { margin: 6px 0; }
.failure ul { margin: 6px 0 0; padding-left: 20px; }
.failure details { margin-top: 6px; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 600; color: #fff; background: var(--to-do); }
.badge.state-done { background: var(--done); } .badge.state-failed { background: var(--failed); }
.badge.state-in-flight { background: var(--in-flight); } .badge.state-missing { background: var(--missing); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin-bottom: 10px; color: var(--muted); }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.legend i { display: inline-block; width: 18px; height: 10px; border-radius: 2px; }
.legend i.mark-key { width: auto; height: auto; font-style: normal; font-weight: 700; color: var(--failed); }
.tl { position: relative; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 8px 12px 10px; }
.tl-head, .tl-row { display: grid; grid-template-columns: 300px 1fr; align-items: center; column-gap: 12px; }
.tl-head { height: 22px; color: var(--muted); font-size: 12px; }
.tl-axis, .tl-track { position: relative; height: 100%; }
.tl-axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.tl-axis span:first-child { transform: none; }
.tl-row { height: 20px; }
.tl-row + .tl-row { border-top: 1px solid #f1f2f5; }
.tl-label { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; font-size: 12.5px; }
.tl-track { height: 20px; background-image: var(--grid); }
.seg { position: absolute; top: 4px; height: 12px; min-width: 2px; border-radius: 2px; }
.seg.k-waiting { top: 9px; height: 2px; background: var(--waiting); }
.k-speech { background: var(--speech); } .k-submit { background: var(--submit); } .k-queued { background: var(--queued); }
.k-rendering { background: var(--rendering); } .k-captions { background: var(--captions); } .k-overlays { background: var(--overlays); }
.k-download { background: var(--download); } .legend i.k-waiting { background: var(--waiting); height: 3px; }
.k-retry { background: repeating-linear-gradient(135deg, var(--retry) 0 3px, #fff 3px 6px); }
.k-quota { background: repeating-linear-gradient(135deg, var(--quota) 0 3px, #fff 3px 6px); }
.seg.k-retry, .seg.k-quota { outline: 1px solid rgba(0,0,0,.12); }
.mark { position: absolute; top: 1px; width: 0; height: 18px; }
.mark::after { position: absolute; left: -6px; top: 0; width: 12px; text-align: center; font-size: 13px; font-weight: 700; line-height: 18px; }
.mark.m-failed::after { content: "\\2715"; color: var(--failed); }
.mark.m-detached::after { content: "\\25C6"; color: var(--in-flight); }
.mark.m-duplicate::after { content: "!"; color: var(--retry); }
.mark.m-retry, .mark.m-quota { border-left: 2px solid var(--retry); top: 2px; height: 16px; }
.mark.m-quota { border-left-color: var(--quota); }
.tl-run .band { position: absolute; top: 3px; height: 14px; min-width: 2px; border-radius: 2px; }
.band.throttled { background: repeating-linear-gradient(135deg, var(--quota) 0 3px, #fff 3px 6px); }
.band.outage { background: repeating-linear-gradient(135deg, #777 0 3px, #fff 3px 6px); }
.tl-run .tl-label { font-weight: 600; color: var(--muted); }
.filters { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 18px; margin-bottom: 12px; }
.filters button { font: inherit; border: 1px solid var(--line); background: var(--card); border-radius: 14px; padding: 2px 11px; cursor: pointer; }
.filters button[aria-pressed="true"] { background: var(--ink); color: #fff; border-color: var(--ink); }
.filters select { font: inherit; padding: 2px 6px; border-radius: 6px; border: 1px solid var(--line); }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 14px; }
.tile { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden;
  content-visibility: auto; contain-intrinsic-size: 170px 400px; }
.tile[hidden] { display: none; }
.thumb { display: flex; align-items: center; justify-content: center; aspect-ratio: 9 / 16; background: #20232b; color: #cfd3dc; text-align: center; text-decoration: none; }
.thumb img { width: 100%; height: 100%; object-fit: cover; display: block; }
.thumb.placeholder { background: repeating-linear-gradient(135deg, #2a2e38 0 10px, #262a33 10px 20px); padding: 10px; flex-direction: column; gap: 4px; }
.thumb.missing { background: #fff3e0; color: var(--missing); padding: 10px; flex-direction: column; gap: 4px; font-weight: 600; }
.thumb.novideo { background: #eef0f4; color: var(--muted); padding: 10px; flex-direction: column; gap: 4px; }
.thumb.failed { background: #fdecea; color: var(--failed); }
.thumb small { font-weight: 400; font-size: 11.5px; }
.tile figcaption { padding: 8px 10px 10px; font-size: 12.5px; overflow-wrap: anywhere; }
.tile figcaption .name { display: block; margin: 4px 0 2px; color: var(--ink); }
.tile .err { color: var(--failed); margin-top: 4px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12.5px; }
`

/** Filters the gallery by state (buttons) and set (a list); says how many tiles are shown. */
export const reportScript = `
(function () {
  var tiles = Array.prototype.slice.call(document.querySelectorAll(".tile"));
  var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-filter-state]"));
  var setFilter = document.getElementById("set-filter");
  var shown = document.getElementById("shown");
  var state = "all";
  function apply() {
    var set = setFilter ? setFilter.value : "";
    var visible = 0;
    tiles.forEach(function (tile) {
      var ok = (state === "all" || tile.getAttribute("data-state") === state) && (set === "" || tile.getAttribute("data-set") === set);
      tile.hidden = !ok;
      if (ok) visible++;
    });
    if (shown) shown.textContent = visible + " of " + tiles.length + " shown";
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      state = button.getAttribute("data-filter-state") || "all";
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", b === button ? "true" : "false"); });
      apply();
    });
  });
  if (setFilter) setFilter.addEventListener("change", apply);
  apply();
})();
`
