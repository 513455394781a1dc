// FleetTwin console: plain JS, no build step. Pages are drawn from the URL (/, /hosts/NAME, /pools/NAME, /alerts)
// from the JSON endpoints under /api/ (docs/console.md); one EventSource on /api/events keeps them live.
"use strict";

const LEVELS = ["critical", "warning", "latent", "ok", "unknown"];
/** The live feed says it is alive at least every 5 s (ConsoleApi.Heartbeat): three missed beats mark the page stale. */
const STALE_AFTER_MS = 15000;

const page = document.getElementById("page");
const state = {
  lastEvent: 0,
  version: null,
  render: null, // the current page's refresh, called when the fleet changes
  timings: {},
};
window.fleetTwinConsole = state; // read by the browser tests (timings, last update)

// ---- small DOM helpers (text always through textContent: nothing from the twin is parsed as HTML) ----
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const link = (href, text) => el("a", { href, "data-nav": true }, text);
const hostLink = name => link("/hosts/" + encodeURIComponent(name), name);
const poolLink = pool => pool ? link("/pools/" + encodeURIComponent(pool), pool) : el("span", { class: "muted" }, "—");
const risk = level => el("span", { class: "risk risk-" + level, "data-risk": level }, level);
const pct = p => p === null || p === undefined ? "—" : (p * 100 >= 10 ? (p * 100).toFixed(0) : (p * 100).toFixed(1)) + " %";
const num = (n, digits = 0) => n === null || n === undefined ? "—" : Number(n).toLocaleString("en", { maximumFractionDigits: digits });
const bytes = b => b === null || b === undefined ? "—" : b >= 1 << 30 ? (b / (1 << 30)).toFixed(1) + " GiB" : b >= 1 << 20 ? (b / (1 << 20)).toFixed(1) + " MiB" : b >= 1024 ? (b / 1024).toFixed(1) + " KiB" : b + " B";
const duration = s => {
  if (s === null || s === undefined) return "—";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
};
const when = t => t ? new Date(t).toLocaleString() : "—";

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

/** Replaces the page with these children (arrays flattened, null left out, as el() does). */
function show(...children) {
  page.replaceChildren(el("div", { class: "page" }, ...children));
}

function showError(error) {
  page.replaceChildren(el("p", { class: "error", role: "alert" }, String(error.message || error)));
}

// ---- header: counts and live state ----
function showCounts(counts) {
  const box = document.getElementById("counts");
  box.replaceChildren(...LEVELS.map(l =>
    el("a", { class: "count count-" + l, href: "/?level=" + l, "data-nav": true, "data-level": l, title: l + " hosts" }, `${counts[l]} ${l}`)));
}

function markLive() {
  state.lastEvent = Date.now();
  const live = document.getElementById("live");
  live.classList.remove("stale");
  document.getElementById("live-state").textContent = "live";
  document.getElementById("last-update").textContent = new Date(state.lastEvent).toLocaleTimeString();
  document.getElementById("last-update").setAttribute("datetime", new Date(state.lastEvent).toISOString());
}

function checkStale() {
  if (Date.now() - state.lastEvent > STALE_AFTER_MS) {
    document.getElementById("live").classList.add("stale");
    document.getElementById("live-state").textContent = "stale";
  }
}
setInterval(checkStale, 1000);

let refreshQueued = false;
/** Redraws the current page's data (at most one refresh in flight: bursts of events coalesce). */
function refresh() {
  if (!state.render || refreshQueued) return;
  refreshQueued = true;
  setTimeout(async () => {
    try { await state.render(true); } catch (e) { /* shown by the page */ }
    refreshQueued = false;
  }, 0);
}

function connect() {
  const events = new EventSource("/api/events");
  events.addEventListener("fleet", e => {
    const fleet = JSON.parse(e.data);
    markLive();
    showCounts(fleet.counts);
    if (state.version !== null && fleet.version !== state.version) refresh();
    state.version = fleet.version;
  });
  events.addEventListener("alert", e => {
    markLive();
    const alert = JSON.parse(e.data);
    document.dispatchEvent(new CustomEvent("twin-alert", { detail: alert }));
    refresh();
  });
  // EventSource reconnects by itself; the stale marker shows the gap meanwhile.
  events.onerror = () => checkStale();
}

// ---- routing ----
function route() {
  const path = decodeURIComponent(location.pathname);
  const params = new URLSearchParams(location.search);
  state.render = null;
  let m;
  if (path === "/" || path === "") return fleetPage(params);
  if ((m = path.match(/^\/hosts\/(.+)$/))) return hostPage(m[1]);
  if ((m = path.match(/^\/pools\/(.+)$/))) return poolPage(m[1]);
  if (path === "/alerts") return alertsPage();
  page.replaceChildren(el("p", { class: "error" }, "no such page: " + path));
}

document.addEventListener("click", e => {
  const a = e.target.closest("a[data-nav]");
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.origin !== location.origin) return;
  e.preventDefault();
  history.pushState(null, "", a.pathname + a.search);
  route();
});
window.addEventListener("popstate", route);

// ---- Fleet ----
function fleetRow(h) {
  return el("tr", { class: "level-" + h.risk, "data-host": h.name },
    el("td", {}, hostLink(h.name)),
    el("td", {}, poolLink(h.pool)),
    el("td", { title: h.riskReason || "" }, risk(h.risk)),
    el("td", { class: "num" }, pct(h.panicProbability)),
    el("td", { class: "num" }, num(h.exhaustionEvents)),
    el("td", { class: "num" }, h.exhaustionRatePerHour === null ? "—" : num(h.exhaustionRatePerHour, 2) + " /h"),
    el("td", {}, h.drivers.join(", ") || "—"),
    el("td", {}, h.drivers.length === 0 && h.mtus.length === 0 ? "—" : h.groOff ? "off" : "on"),
    el("td", {}, h.mtus.join(", ") || "—"),
    el("td", {}, h.release || "—"));
}

function hostTable(rows) {
  return el("table", { class: "hosts" },
    el("thead", {}, el("tr", {},
      el("th", {}, "host"), el("th", {}, "pool"), el("th", {}, "risk"), el("th", { class: "num" }, "P(panic 24 h)"),
      el("th", { class: "num" }, "exhaustions"), el("th", { class: "num" }, "rate"), el("th", {}, "driver"),
      el("th", {}, "GRO"), el("th", {}, "MTU"), el("th", {}, "release"))),
    el("tbody", {}, rows.map(fleetRow)));
}

function select(name, values, current, label) {
  return el("label", {}, label + " ",
    el("select", { name, onchange: e => navigateFleet({ [name]: e.target.value, page: "" }) },
      el("option", { value: "" }, "all"),
      values.map(v => el("option", { value: v, selected: v === current }, v))));
}

function navigateFleet(changes) {
  const params = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) v ? params.set(k, v) : params.delete(k);
  const query = params.toString();
  history.pushState(null, "", "/" + (query ? "?" + query : ""));
  route();
}

async function fleetPage(params) {
  const started = performance.now();
  const render = async (live) => {
    const query = new URLSearchParams();
    for (const k of ["pool", "level", "driver", "page"]) if (params.get(k)) query.set(k, params.get(k));
    let fleet;
    try { fleet = await getJson("/api/fleet?" + query); } catch (e) { if (!live) showError(e); return; }
    if (state.render !== render) return; // navigated away meanwhile
    showCounts(fleet.counts);
    state.version = fleet.version;
    show(
      el("h1", {}, "Fleet", el("span", { class: "muted" }, `${num(fleet.hosts)} hosts, ${num(fleet.matching)} shown, riskiest first`)),
      el("div", { class: "filters" },
        select("pool", fleet.pools, fleet.pool, "pool"),
        select("level", LEVELS, fleet.level, "level"),
        select("driver", fleet.drivers, fleet.driver, "driver")),
      fleet.rows.length ? hostTable(fleet.rows) : el("p", { class: "muted" }, "no host matches"),
      el("div", { class: "pager" },
        el("button", { class: "plain", disabled: fleet.page <= 1, onclick: () => navigateFleet({ page: String(fleet.page - 1) }) }, "‹ previous"),
        `page ${fleet.page} of ${fleet.pages}`,
        el("button", { class: "plain", disabled: fleet.page >= fleet.pages, onclick: () => navigateFleet({ page: String(fleet.page + 1) }) }, "next ›")));
    if (!live) {
      // First paint of the table (the browser tests read it; docs/perf.md): from navigation start and from route().
      requestAnimationFrame(() => {
        state.timings.fleetRenderedMs = performance.now();
        state.timings.fleetRouteToRenderMs = performance.now() - started;
      });
    }
  };
  state.render = render;
  await render(false);
}

// ---- Host ----
function facts(pairs) {
  return el("div", { class: "facts" }, pairs.map(([k, v]) => el("div", {}, el("b", {}, k), v)));
}

function timeline(container, host) {
  // Failed mappings: size against uptime, with the 32 KiB line a single mapping must stay under (docs/swiotlb.md).
  const points = host.failures.filter(f => f.uptime !== null).sort((a, b) => a.uptime - b.uptime);
  if (points.length === 0) {
    container.append(el("p", { class: "muted" }, "no failed mapping logged"));
    return;
  }
  const xs = points.map(p => p.uptime);
  if (xs.length === 1) xs.push(xs[0] + 60);
  const sizes = points.map(p => p.bytes);
  if (sizes.length < xs.length) sizes.push(null);
  const limit = xs.map(() => host.overflowBytes);
  const maxY = Math.max(host.overflowBytes * 1.15, ...points.map(p => p.bytes * 1.05));
  const width = Math.max(320, Math.min(1200, container.clientWidth || 900) - 20);
  const chart = new uPlot({
    width, height: 280,
    scales: { x: { time: false }, y: { range: [0, maxY] } },
    axes: [
      { label: "uptime (h)", values: (u, vals) => vals.map(v => (v / 3600).toFixed(2)) },
      { label: "failed mapping (bytes)", size: 70 },
    ],
    series: [
      { label: "uptime", value: (u, v) => v === null ? "—" : duration(v) },
      { label: "failed mapping", stroke: "#d32f2f", width: 0, paths: () => null, points: { show: true, size: 8, fill: "#d32f2f" } },
      { label: "32 KiB: a single mapping over it panics", stroke: "#1d2330", dash: [6, 4], width: 1.5, points: { show: false } },
    ],
  }, [xs, sizes, limit], container);
  state.chart = chart;
}

function occupancy(s) {
  const used = s.slabsInUse / s.poolSlabs, high = s.highWaterSlabs / s.poolSlabs;
  return el("div", {},
    el("div", { class: "occupancy", title: `${s.slabsInUse} of ${s.poolSlabs} slabs in use, high water ${s.highWaterSlabs}` },
      el("span", { style: `width:${(used * 100).toFixed(1)}%` }), el("i", { style: `left:${(high * 100).toFixed(1)}%` })),
    el("p", { class: "muted" }, `${num(s.slabsInUse)} / ${num(s.poolSlabs)} slabs in use (high water ${num(s.highWaterSlabs)}), ${num(s.mappings)} mappings, largest free run ${num(s.largestFreeRun)} slabs, fragmentation ${(s.fragmentation * 100).toFixed(0)} %, ${num(s.exhaustionEvents)} exhaustions${s.panicked ? ", panicked: " + s.panicMessage : ""}`));
}

function simpleTable(headers, rows) {
  if (rows.length === 0) return el("p", { class: "muted" }, "none");
  return el("table", {}, el("thead", {}, el("tr", {}, headers.map(h => el("th", {}, h)))),
    el("tbody", {}, rows.map(r => el("tr", {}, r.map(c => el("td", {}, c))))));
}

function alertItem(a) {
  const what = a.kind === "panic" ? `panic: ${a.panicMessage || ""}` : `${a.previousRisk} → ${a.risk}`;
  return el("li", { "data-sequence": a.sequence },
    el("time", { datetime: a.raisedAt }, new Date(a.raisedAt).toLocaleString()), " ",
    hostLink(a.host), a.pool ? [" (", poolLink(a.pool), ")"] : "", " ", risk(a.risk), " ", what,
    a.reason ? el("div", { class: "muted" }, a.reason) : null);
}

async function hostPage(name) {
  const render = async (live) => {
    let h;
    try { h = await getJson("/api/hosts/" + encodeURIComponent(name)); } catch (e) { if (!live) showError(e); return; }
    if (state.render !== render) return;
    const chart = el("div", { class: "chart", id: "timeline" });
    show(
      el("h1", {}, h.name, risk(h.risk), h.pool ? ["pool ", poolLink(h.pool)] : null),
      el("div", { class: "reason" }, el("b", {}, "Why: "), h.riskReason || "no assessment yet"),
      facts([
        ["P(panic in 24 h)", pct(h.panicProbability)],
        ["exhaustions", `${num(h.exhaustionEvents)}${h.exhaustionRatePerHour === null ? "" : ` (${num(h.exhaustionRatePerHour, 2)} /h)`}`],
        ["largest failed mapping", bytes(h.largestFailedMappingBytes)],
        ["release / kernel", `${h.release || "—"} / ${h.kernel || "—"}`],
        ["uptime", duration(h.lastUptime)],
        ["swiotlb", h.swiotlbMiB ? h.swiotlbMiB + " MiB" : "64 MiB (default)"],
        ["boots", num(h.boots)],
        ["VMs resident / started", `${num(h.residentVms)} / ${num(h.vmStartEvents)}`],
        ["memory free / total", `${bytes(h.memoryFreeBytes)} / ${bytes(h.memoryTotalBytes)}`],
        ["hotfixes", h.hotfixes.join(", ") || "—"],
      ]),
      el("h2", {}, "Failed mappings over time"), chart,
      h.swiotlb ? [el("h2", {}, "Bounce pool occupancy (run by the twin)"), occupancy(h.swiotlb)] : null,
      el("h2", {}, "Devices with failures"),
      simpleTable(["bus id", "device", "exhaustions"], h.devices.map(d => [d.busId, d.device || "—", num(d.exhaustionEvents)])),
      el("h2", {}, "NICs / PIFs"),
      simpleTable(["device", "bus id", "driver", "version", "MTU", "GRO", "GRO override", "PIF", "bond"],
        h.nics.map(n => [n.device, n.busId || "—", n.driver || "—", n.driverVersion || "—", n.mtu ?? "—", n.gro === null ? "—" : n.gro ? "on" : "off",
          n.groOverride || "—", n.pifUuid || "—", n.bondSlaveOf ? "member of " + n.bondSlaveOf : n.bondMasterOf ? "master of " + n.bondMasterOf : "—"])),
      el("h2", {}, "Bonds"),
      simpleTable(["bond", "mode", "master PIF", "member PIFs"], h.bonds.map(b => [b.uuid, b.mode || "—", b.masterPif || "—", b.memberPifs.join(", ")])),
      el("h2", {}, "Panics"),
      h.panics.length === 0 ? el("p", { class: "muted" }, "none") : h.panics.map(p => el("div", { class: "panic" },
        el("p", {}, el("b", {}, p.message), " at uptime ", duration(p.uptime), p.time ? ` (${when(p.time)})` : "", p.comm ? ` in ${p.comm}${p.pid ? "[" + p.pid + "]" : ""}` : ""),
        el("p", {}, "cause: ", p.cause),
        el("pre", {}, p.trace.join("\n") || "(no trace)"))),
      el("h2", {}, "VM starts (latest)"),
      simpleTable(["domid", "uptime", "time"], h.vmStarts.map(v => [v.domid, duration(v.uptime), when(v.time)])),
      el("h2", {}, "Alerts"),
      h.alerts.length === 0 ? el("p", { class: "muted" }, "none") : el("ul", { class: "alerts" }, h.alerts.map(alertItem)));
    timeline(chart, h);
  };
  state.render = render;
  await render(false);
}

// ---- Pool ----
function planSection(pool) {
  if (!pool.plan) return el("p", { class: "muted" }, pool.planProblem || "no plan");
  const plan = pool.plan;
  const waves = plan.timeline.waves;
  return [
    el("p", {}, `Plan ${plan.plan_id}: ${waves.length} wave(s), ETA ${duration(plan.timeline.total_seconds)}, ` +
      `${plan.complete ? "every host decided" : "some hosts undecided"}, at most ${plan.max_down} host(s) down at once` +
      (plan.timeline.panic_during_rollout === undefined || plan.timeline.panic_during_rollout === null ? "" : `, P(any host panics before its reboot) ${pct(plan.timeline.panic_during_rollout)}`)),
    simpleTable(["wave", "hosts", "start", "end"], waves.map(w => [
      w.wave + (w.canary ? " (canary)" : ""), (w.hosts || []).join(", "), duration(w.start_seconds), duration(w.end_seconds)])),
    el("h2", {}, "Steps and moves"),
    simpleTable(["#", "host", "wave", "risk", "action", "moves"], plan.steps.map(s => [
      s.order, hostLink(s.host), s.wave ?? "—", risk(s.risk), s.action,
      (s.moves || []).map(m => `${m.vm} → ${m.to_host}`).join("; ") || "—"])),
    pool.planHtml ? [el("h2", {}, "Gantt (the planner's HTML)"), el("iframe", { class: "gantt", sandbox: "", title: "rolling plan Gantt chart", srcdoc: pool.planHtml })] : null,
  ];
}

function whatIfForm(pool) {
  const hostSel = el("select", { name: "host" }, el("option", { value: "" }, "every host"), pool.hosts.map(h => el("option", { value: h.name }, h.name)));
  const setting = el("select", { name: "setting" }, pool.whatIfSettings.map(s => el("option", { value: s, selected: s === "gro" }, s)));
  const value = el("input", { name: "value", value: "on", size: 6 });
  const hours = el("input", { name: "hours", type: "number", min: "0.02", max: "168", step: "any", value: "1", size: 5 });
  const bar = el("progress", { max: 100, value: 0, id: "whatif-progress" });
  const message = el("span", { class: "muted", id: "whatif-message" });
  const result = el("div", { id: "whatif-result" });
  const run = el("button", { id: "run-whatif", type: "button" }, "Run what-if");
  setting.addEventListener("change", () => { value.value = { gro: "on", mtu: "1500", swiotlb: "128" }[setting.value] || ""; });
  run.addEventListener("click", async () => {
    run.disabled = true;
    result.replaceChildren();
    bar.value = 0;
    message.textContent = "starting";
    try {
      await runWhatIf(pool.name, {
        hours: Number(hours.value) || 0,
        changes: [{ host: hostSel.value || null, setting: setting.value, value: value.value }],
      }, step => { bar.value = step.percent; message.textContent = step.message; }, final => {
        bar.value = 100;
        message.textContent = "done";
        result.replaceChildren(sideBySide(final));
      });
    } catch (e) {
      message.textContent = "";
      result.replaceChildren(el("p", { class: "error", role: "alert" }, String(e.message || e)));
    } finally {
      run.disabled = false;
    }
  });
  return [
    el("div", { class: "whatif" }, "change", setting, "to", value, "on", hostSel, "for", hours, "simulated hour(s)", run, bar, message),
    result,
  ];
}

/** POSTs a what-if and reads its Server-Sent Events (EventSource cannot POST) until the result or an error. */
async function runWhatIf(pool, body, onProgress, onResult) {
  const response = await fetch(`/api/pools/${encodeURIComponent(pool)}/whatif`, {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "text/event-stream" }, body: JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(problem.error || `${response.status} ${response.statusText}`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the what-if ended without a result");
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trimStart();
      }
      const payload = JSON.parse(data);
      if (type === "progress") onProgress(payload);
      else if (type === "result") { onResult(payload); return; }
      else if (type === "error") throw new Error(payload.error);
    }
  }
}

function sideBySide(final) {
  const r = final.result, base = r.baseline, changed = r.what_if;
  const row = (label, key) => {
    const a = base[key], b = changed ? changed[key] : null;
    const cls = b === null || b === undefined || a === b ? "" : b < a ? "better" : "worse";
    return el("tr", {}, el("td", {}, label), el("td", { class: "num" }, num(a, 2)), el("td", { class: "num " + cls }, num(b, 2)));
  };
  const hosts = (base.hosts || []).map(h => {
    const w = changed && (changed.hosts || []).find(x => x.host === h.host);
    return el("tr", {}, el("td", {}, hostLink(h.host)),
      el("td", { class: "num" }, `${h.panics} panic(s), ${num(h.exhaustion_events)} exh.${h.first_panic_seconds == null ? "" : ", first " + duration(h.first_panic_seconds)}`),
      el("td", { class: "num" }, w ? `${w.panics} panic(s), ${num(w.exhaustion_events)} exh.${w.first_panic_seconds == null ? "" : ", first " + duration(w.first_panic_seconds)}` : "—"));
  });
  return el("div", { class: "side-by-side", id: "whatif-side-by-side" },
    el("p", {}, final.message),
    el("table", {},
      el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", { class: "num" }, "baseline"), el("th", { class: "num" }, "with the change"))),
      el("tbody", {}, row("panics", "panics"), row("exhaustion events", "exhaustion_events"), row("hosts at risk", "hosts_at_risk"), hosts)));
}

async function poolPage(name) {
  let form = null;
  const render = async (live) => {
    let pool;
    try { pool = await getJson("/api/pools/" + encodeURIComponent(name)); } catch (e) { if (!live) showError(e); return; }
    if (state.render !== render) return;
    form ??= whatIfForm(pool); // kept across live refreshes: a running what-if keeps its progress (its nodes move to the new page)
    const c = pool.counts;
    show(
      el("h1", {}, "Pool " + pool.name, el("span", { class: "muted" }, `${pool.hosts.length} hosts: ${LEVELS.filter(l => c[l]).map(l => c[l] + " " + l).join(", ")}`)),
      hostTable(pool.hosts),
      el("h2", {}, "Rolling plan"), el("section", { id: "plan" }, planSection(pool)),
      el("h2", {}, "What-if"), el("section", { id: "whatif" }, form));
  };
  state.render = render;
  await render(false);
}

// ---- Alerts ----
async function alertsPage() {
  const list = el("ul", { class: "alerts", id: "alert-list" });
  const render = async (live) => {
    if (live) return; // new alerts arrive as events, below
    let answer;
    try { answer = await getJson("/api/alerts?limit=200"); } catch (e) { showError(e); return; }
    if (state.render !== render) return;
    list.replaceChildren(...answer.alerts.map(alertItem));
    show(el("h1", {}, "Alerts", el("span", { class: "muted" }, "risk changes and panics, newest first, live")),
      el("section", {}, answer.alerts.length ? null : el("p", { class: "muted", id: "no-alerts" }, "no alert yet"), list));
  };
  const onAlert = e => {
    if (state.render !== render) { document.removeEventListener("twin-alert", onAlert); return; }
    if (list.querySelector(`[data-sequence="${e.detail.sequence}"]`)) return;
    const item = alertItem(e.detail);
    item.classList.add("new");
    list.prepend(item);
    document.getElementById("no-alerts")?.remove();
  };
  document.addEventListener("twin-alert", onAlert);
  state.render = render;
  await render(false);
}

connect();
route();
