// Sluice console: a single page over the REST API (/api/v1). Everything it shows comes
// from the API; every change goes through it, with the token the operator entered (kept in
// this tab's sessionStorage, never shown again). Text from the server is always put in the
// page as text, never as markup.

const TOKEN_KEY = "sluice.token";
const REFRESH_MS = 2000;
const HIDDEN = "(hidden: leave as it is to keep the stored password)";
const LIFECYCLE = {
  stop: "Stop (drain the buffer into ClickHouse)",
  terminate: "Terminate (stop now, keep the buffer)",
  resume: "Resume",
};

// ---- the API

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, cache: "no-store" });
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { message: text }; }
  }
  if (res.status === 401) {
    showNotice("The server asks for an API token: enter it above.");
    document.getElementById("token-input").focus();
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

const enc = encodeURIComponent;

// ---- page building (text only)

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function svg(tag, attrs) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function showNotice(text) {
  const n = document.getElementById("notice");
  n.textContent = text;
  n.hidden = !text;
}

function errorText(e) {
  if (!(e instanceof ApiError)) return String(e.message || e);
  const b = e.body || {};
  let t = `${e.status}: ${b.message || ""}`;
  if (b.details && b.details.error) t += ` (${b.details.error})`;
  return t;
}

function problemList(e) {
  const errs = (e.body && e.body.errors) || [];
  if (!errs.length) return h("p", { class: "error-text" }, errorText(e));
  return h("ul", { class: "problems error-text" },
    errs.map((x) => h("li", {}, x.field ? h("code", {}, x.field) : "", x.field ? ": " : "", x.message)));
}

const fmt = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
function num(n) { return n === null || n === undefined ? "–" : fmt.format(n); }
function bytes(n) {
  if (!n) return "0 B";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${fmt.format(n)} ${u[i]}`;
}
function deadTotal(stats) {
  return Object.values((stats && stats.dead_letters) || {}).reduce((a, b) => a + b, 0);
}

// Per-second rates of a counter series: [t_ms], [count] -> [rate] (one shorter).
function rates(t, v) {
  const out = [];
  for (let i = 1; i < t.length; i++) {
    const dt = (t[i] - t[i - 1]) / 1000;
    out.push(dt > 0 ? Math.max(0, v[i] - v[i - 1]) / dt : 0);
  }
  return out;
}

function sparkline(values, label, unit) {
  const w = 220, hgt = 44;
  const last = values.length ? values[values.length - 1] : 0;
  const max = Math.max(1, ...values);
  const s = svg("svg", { class: "spark", width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: "img",
    "aria-label": `${label}: ${num(last)} ${unit} now, at most ${num(max)} over the last ${values.length} samples` });
  if (values.length > 1) {
    const pts = values.map((v, i) => `${(i / (values.length - 1)) * (w - 2) + 1},${hgt - 2 - (v / max) * (hgt - 6)}`);
    s.append(svg("polyline", { points: pts.join(" ") }));
  }
  return h("figure", { class: "graph" }, s, h("figcaption", {}, `${label}: ${num(last)} ${unit}`));
}

// A pipeline's three graphs from its history series.
function graphsOf(series) {
  return [
    sparkline(rates(series.t, series.records_in), "Records in", "per second"),
    sparkline(rates(series.t, series.rows_written), "Rows written", "per second"),
    sparkline(series.buffer_records, "Buffered records", "records")];
}

// The last rate of a counter in the history, or null.
function lastRate(series, key) {
  if (!series || series.t.length < 2) return null;
  const r = rates(series.t, series[key]);
  return r[r.length - 1];
}

// ---- routing

let timer = null;
let viewId = 0;  // each view's work stops once another view has replaced it

// A predicate true while the view that called it is still the one shown.
function aliveCheck() {
  const mine = viewId;
  return () => mine === viewId;
}

function route() {
  if (timer) clearInterval(timer);
  timer = null;
  viewId++;
  showNotice("");
  const hash = location.hash.startsWith("#/") ? location.hash : "#/";
  let parts;
  try {
    parts = hash.slice(2).split("/").map(decodeURIComponent);
  } catch {
    parts = [""];
  }
  const main = document.getElementById("main");
  main.replaceChildren();
  const here = parts[0] === "create" ? "#/create" : parts[0] === "" ? "#/" : null;
  for (const a of document.querySelectorAll(".top nav a")) {
    if (a.getAttribute("href") === here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (parts[0] === "create") return viewCreate(main);
  if (parts[0] === "pipeline" && parts[1] && parts[2] === "dlq") return viewDlq(main, parts[1]);
  if (parts[0] === "pipeline" && parts[1]) return viewPipeline(main, parts[1]);
  return viewOverview(main);
}

// Runs fn now and every REFRESH_MS while its view is shown.
function every(fn) {
  const alive = aliveCheck();
  const tick = () => { if (alive()) fn(alive); };
  tick();
  timer = setInterval(tick, REFRESH_MS);
}

// ---- overview

function viewOverview(main) {
  document.title = "Pipelines · Sluice";
  const body = h("tbody", {});
  const graphs = h("div", {});
  const updated = h("p", { class: "muted", "aria-live": "off" });
  main.append(
    h("h1", {}, "Pipelines"),
    h("table", { id: "pipelines" },
      h("caption", { class: "muted" }, "Every pipeline, refreshed every 2 seconds"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Pipeline"), h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col" }, "Signal"),
        h("th", { scope: "col", class: "num" }, "Records in/s"), h("th", { scope: "col", class: "num" }, "Rows out/s"),
        h("th", { scope: "col", class: "num" }, "Records in"), h("th", { scope: "col", class: "num" }, "Rows written"),
        h("th", { scope: "col", class: "num" }, "Buffered"), h("th", { scope: "col", class: "num" }, "Oldest (s)"),
        h("th", { scope: "col", class: "num" }, "Dead letters"), h("th", { scope: "col" }, "Last error"))),
      body),
    h("h2", {}, "Rates over the last minutes"),
    graphs, updated);
  every(async (alive) => {
    try {
      const [list, hist] = await Promise.all([api("GET", "/api/v1/pipeline"), api("GET", "/api/v1/stats/history")]);
      if (!alive()) return;
      body.replaceChildren(...list.map((p) => overviewRow(p, hist.pipelines[p.pipeline_id])));
      if (!list.length)
        body.append(h("tr", {}, h("td", { colspan: 11 }, "No pipelines yet: ", h("a", { href: "#/create" }, "create one"), ".")));
      graphs.replaceChildren(...list.map((p) => {
        const s = hist.pipelines[p.pipeline_id];
        if (!s) return h("p", {}, p.pipeline_id, ": no samples yet");
        return h("section", { class: "graphs", "aria-label": `Rates of ${p.pipeline_id}` },
          h("h3", {}, p.pipeline_id), graphsOf(s));
      }));
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      showNotice("");
    } catch (e) {
      if (alive()) showNotice(`Cannot read the pipelines: ${errorText(e)}`);
    }
  });
}

function overviewRow(p, series) {
  const st = p.stats || {};
  const buf = st.buffer || {};
  return h("tr", { "data-pipeline": p.pipeline_id },
    h("td", {}, h("a", { href: `#/pipeline/${enc(p.pipeline_id)}` }, p.pipeline_id),
      p.name && p.name !== p.pipeline_id ? h("div", { class: "muted" }, p.name) : ""),
    h("td", {}, h("span", { class: `badge ${p.status}`, "data-field": "status" }, p.status)),
    h("td", {}, p.source_type),
    h("td", { class: "num", "data-field": "rate_in" }, num(lastRate(series, "records_in"))),
    h("td", { class: "num", "data-field": "rate_out" }, num(lastRate(series, "rows_written"))),
    h("td", { class: "num", "data-field": "records_in" }, num(st.records_in)),
    h("td", { class: "num", "data-field": "rows_written" }, num(st.rows_written)),
    h("td", { class: "num", "data-field": "buffered" }, `${num(buf.records)} (${bytes(buf.bytes)})`),
    h("td", { class: "num" }, num(buf.oldest_age_seconds)),
    h("td", { class: "num", "data-field": "dead_letters" }, num(deadTotal(st))),
    h("td", { "data-field": "last_error" }, st.last_error || ""));
}

// ---- document editor with live validation (shared by create and edit)

// `prepare` turns the editor's text into what is sent (the hidden password put back).
function documentEditor(id, initial, onValidity, prepare = (t) => t) {
  const area = h("textarea", { id, rows: 24, spellcheck: "false", "aria-describedby": `${id}-result` });
  area.value = initial;
  const result = h("div", { id: `${id}-result`, role: "status", "aria-live": "polite" });
  let pending = null, seq = 0;
  const check = async () => {
    const mine = ++seq;
    let text = area.value, doc;
    try { doc = JSON.parse(text); } catch (e) {
      result.replaceChildren(h("p", { class: "error-text" }, `Not JSON: ${e.message}`));
      onValidity(false);
      return;
    }
    try {
      if (doc && typeof doc === "object" && doc.version !== "v3") {
        // A GlassFlow v2 document: shown as the v3 document it becomes.
        const v3 = await api("POST", "/api/v1/pipeline/migrate-preview", text);
        text = JSON.stringify(v3, null, 2);
        if (mine !== seq) return;
        area.value = text;
        result.replaceChildren(h("p", { class: "muted" }, "Converted from a v2 document."));
      }
      await api("POST", "/api/v1/pipeline/validate", prepare(text));
      if (mine !== seq) return;
      result.replaceChildren(h("p", { class: "ok-text" }, "The document is valid."));
      onValidity(true);
    } catch (e) {
      if (mine !== seq) return;
      if (e instanceof ApiError && e.status === 503 && e.body && e.body.code === "busy") {
        pending = setTimeout(check, 1000);  // another check of ClickHouse is running
        return;
      }
      result.replaceChildren(h("p", { class: "error-text" }, "The server finds these problems:"), problemList(e));
      onValidity(false);
    }
  };
  area.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(check, 400);
  });
  if (initial) check();
  return { area, result, check, text: () => prepare(area.value) };
}

// ---- create

function viewCreate(main) {
  document.title = "Create a pipeline · Sluice";
  const select = h("select", { id: "template" }, h("option", { value: "" }, "Choose a template…"));
  const create = h("button", { type: "button", class: "primary", id: "create", disabled: true }, "Create the pipeline");
  const outcome = h("div", { role: "status", "aria-live": "polite" });
  const ed = documentEditor("create-doc", "", (ok) => { create.disabled = !ok; });
  const load = h("button", { type: "button", id: "load-template" }, "Load the template");
  main.append(
    h("h1", {}, "Create a pipeline"),
    h("p", {}, "Start from a template (the signal's tables, or ClickStack's), or paste a GlassFlow pipeline document (v3; v2 is converted). The server checks it as you type, against the live table too."),
    h("div", { class: "toolbar" }, h("label", { for: "template" }, "Template"), select, load),
    h("label", { for: "create-doc" }, "Pipeline document (JSON)"),
    ed.area, ed.result, h("div", { class: "toolbar" }, create), outcome);
  api("GET", "/ui/templates/").then((names) => {
    for (const n of names) select.append(h("option", { value: n }, n));
  }).catch((e) => showNotice(`Cannot list the templates: ${errorText(e)}`));
  load.addEventListener("click", async () => {
    if (!select.value) return;
    const doc = await api("GET", `/ui/templates/${enc(select.value)}.json`);
    ed.area.value = JSON.stringify(doc, null, 2);
    ed.check();
    ed.area.focus();
  });
  create.addEventListener("click", async () => {
    create.disabled = true;
    try {
      const doc = JSON.parse(ed.area.value);
      await api("POST", "/api/v1/pipeline", ed.area.value);
      location.hash = `#/pipeline/${enc(doc.pipeline_id)}`;
    } catch (e) {
      outcome.replaceChildren(h("p", { class: "error-text" }, "Not created:"), problemList(e));
      create.disabled = false;
    }
  });
}

// ---- one pipeline

function viewPipeline(main, id) {
  document.title = `${id} · Sluice`;
  const alive = aliveCheck();
  const badge = h("span", { class: "badge", id: "status" }, "…");
  const reason = h("p", { id: "reason", class: "error-text" });
  const figures = h("dl", { class: "figures", id: "figures" });
  const graphs = h("div", { class: "graphs" });
  const actions = h("div", { class: "toolbar", role: "group", "aria-label": "Lifecycle" });
  const actionResult = h("p", { role: "status", "aria-live": "polite", id: "action-result" });
  const save = h("button", { type: "button", class: "primary", id: "save", disabled: true }, "Save and resume");
  const saveNote = h("p", { class: "muted", id: "save-note" });
  let valid = false, status = "", fileManaged = false, loaded = false;
  // The ClickHouse password is not shown: the editor holds a placeholder, replaced by the
  // stored password in what is sent as long as the operator leaves it.
  let password = null;
  const ed = documentEditor("pipeline-doc", "", (ok) => { valid = ok; updateSave(); }, (text) => {
    if (password === null) return text;
    try {
      const d = JSON.parse(text);
      const cp = d && d.sink && d.sink.connection_params;
      if (cp && cp.password === HIDDEN) {
        cp.password = password;
        return JSON.stringify(d);
      }
    } catch { /* sent as it is: the server names the problem */ }
    return text;
  });
  const tableView = h("div", { id: "table-view" });
  const testOut = h("div", { id: "test-result", role: "status", "aria-live": "polite" });
  const testBtn = h("button", { type: "button", id: "send-test" }, "Send a test record");
  function updateSave() {
    const editable = (status === "Stopped" || status === "Failed") && !fileManaged;
    save.disabled = !(valid && editable);
    saveNote.textContent = fileManaged ? "This pipeline comes from a file in the pipelines directory: edit the file."
      : editable ? "" : "Stop the pipeline to edit its document.";
  }
  for (const verb of Object.keys(LIFECYCLE))
    actions.append(h("button", { type: "button", id: `do-${verb}`, onclick: () => lifecycle(verb) }, LIFECYCLE[verb]));
  const del = h("button", { type: "button", class: "danger", id: "do-delete" }, "Delete");
  actions.append(del, h("a", { href: `#/pipeline/${enc(id)}/dlq`, id: "dlq-link" }, "Dead letters"));
  main.append(
    h("p", {}, h("a", { href: "#/" }, "← Pipelines")),
    h("h1", {}, "Pipeline ", h("code", {}, id), " ", badge), reason, actions, actionResult,
    h("h2", {}, "Figures"), figures, graphs,
    h("h2", {}, "Test record"),
    h("p", {}, "Sends one record of this pipeline's signal through its buffer, marked with a random id, and follows it to where it lands."),
    h("div", { class: "toolbar" }, testBtn), testOut,
    h("div", { class: "two" },
      h("section", { "aria-labelledby": "doc-h" }, h("h2", { id: "doc-h" }, "Document"),
        h("label", { for: "pipeline-doc" }, "Pipeline document (JSON)"), ed.area, ed.result,
        h("div", { class: "toolbar" }, save), saveNote),
      h("section", { "aria-labelledby": "table-h" }, h("h2", { id: "table-h" }, "Mapping and the live table"),
        h("div", { class: "toolbar" }, h("button", { type: "button", id: "reload-table", onclick: () => loadTable() }, "Read the table again")),
        tableView)));

  async function lifecycle(verb) {
    actionResult.textContent = `${verb}…`;
    try {
      await api("POST", `/api/v1/pipeline/${enc(id)}/${verb}`);
      actionResult.textContent = `${verb}: accepted`;
    } catch (e) { actionResult.textContent = `${verb} refused: ${errorText(e)}`; }
    refresh();
  }
  del.addEventListener("click", async () => {
    if (!window.confirm(`Delete pipeline ${id} with its buffer and dead letters?`)) return;
    try {
      await api("DELETE", `/api/v1/pipeline/${enc(id)}`);
      location.hash = "#/";
    } catch (e) { actionResult.textContent = `delete refused: ${errorText(e)}`; }
  });
  save.addEventListener("click", async () => {
    save.disabled = true;
    try {
      await api("POST", `/api/v1/pipeline/${enc(id)}/edit`, ed.text());
      actionResult.textContent = "Saved: the pipeline resumes with the new document.";
      loadTable();
    } catch (e) {
      actionResult.replaceChildren("Not saved: ", problemList(e));
    }
    refresh();
  });
  testBtn.addEventListener("click", async () => {
    testBtn.disabled = true;
    try {
      const sent = await api("POST", `/api/v1/pipeline/${enc(id)}/test-record`);
      testOut.replaceChildren(h("p", {}, `Sent “${sent.text}”. Following it…`));
      const started = Date.now();
      while (Date.now() - started < 120000 && alive()) {
        let w;
        try {
          w = await api("GET", `/api/v1/pipeline/${enc(id)}/test-record?test_id=${enc(sent.test_id)}`);
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 503)) throw e;
          w = { status: "buffered", detail: errorText(e) };  // asked again in a moment
        }
        const line = w.status === "landed" ? `Landed in ${w.table} (${w.columns.join(", ")}).`
          : w.status === "dead_lettered" ? `Dead-lettered: ${w.detail}`
          : w.status === "not_found" ? `Not in the table: ${w.detail}` : `Buffered: ${w.detail}`;
        testOut.replaceChildren(h("p", { "data-status": w.status, id: "test-status" }, line));
        if (w.status !== "buffered") break;
        await new Promise((r) => setTimeout(r, 1000));
      }
    } catch (e) {
      testOut.replaceChildren(h("p", { class: "error-text" }, `The test record failed: ${errorText(e)}`));
    }
    testBtn.disabled = false;
  });

  async function loadTable() {
    tableView.replaceChildren(h("p", { class: "muted" }, "Reading the table…"));
    try {
      const t = await api("GET", `/api/v1/pipeline/${enc(id)}/table`);
      if (!alive()) return;
      const mapping = h("table", { id: "mapping" },
        h("caption", {}, "The mapping"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Column"),
          h("th", { scope: "col" }, "Declared type"), h("th", { scope: "col" }, "In the table"))),
        h("tbody", {}, t.mapping.map((m) => h("tr", {},
          h("td", {}, h("code", {}, m.name)), h("td", {}, m.column_name), h("td", {}, m.column_type),
          h("td", { class: m.in_table ? "" : "missing" }, m.in_table ? (m.table_type || "nested") : "missing")))));
      const tables = t.tables.map((tb) => h("table", { class: "columns" },
        h("caption", {}, `${tb.database}.${tb.table}`, tb.metric_type ? ` (${tb.metric_type})` : ""),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Column"), h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Default"))),
        h("tbody", {}, tb.error ? h("tr", {}, h("td", { colspan: 3, class: "error-text" }, tb.error))
          : tb.columns.map((c) => h("tr", {}, h("td", {}, c.name), h("td", {}, c.type), h("td", {}, c.default_kind))))));
      tableView.replaceChildren(mapping, ...tables);
    } catch (e) {
      if (!alive()) return;
      if (e instanceof ApiError && e.status === 503 && e.body && e.body.code === "busy") {
        setTimeout(() => { if (alive()) loadTable(); }, 1000);  // another check is running
        return;
      }
      tableView.replaceChildren(h("p", { class: "error-text" }, `Cannot read the table: ${errorText(e)}`));
    }
  }

  async function refresh() {
    try {
      const [health, list, hist] = await Promise.all([
        api("GET", `/api/v1/pipeline/${enc(id)}/health`),
        api("GET", "/api/v1/pipeline"),
        api("GET", "/api/v1/stats/history")]);
      if (!alive()) return;
      status = health.overall_status;
      const me = list.find((p) => p.pipeline_id === id) || {};
      fileManaged = me.managed_by === "file";
      badge.textContent = status;
      badge.className = `badge ${status}`;
      const st = health.stats || {};
      reason.textContent = st.reason ? `Failed: ${st.reason}` : "";
      const buf = st.buffer || {};
      const series = hist.pipelines[id];
      const fig = (label, value, field, wide) =>
        h("div", { class: wide ? "wide" : "" }, h("dt", {}, label), h("dd", { "data-field": field }, value));
      figures.replaceChildren(
        fig("Records in", num(st.records_in), "records_in"),
        fig("Rows written", num(st.rows_written), "rows_written"),
        fig("Records in/s", num(lastRate(series, "records_in")), "rate_in"),
        fig("Rows out/s", num(lastRate(series, "rows_written")), "rate_out"),
        fig("Buffered", `${num(buf.records)} (${bytes(buf.bytes)})`, "buffered"),
        fig("Oldest buffered (s)", num(buf.oldest_age_seconds), "oldest"),
        fig("Dead letters", num(deadTotal(st)), "dead_letters"),
        fig("Last error", st.last_error || "none", "last_error", true));
      graphs.replaceChildren(...(series ? graphsOf(series) : []));
      for (const verb of Object.keys(LIFECYCLE))
        document.getElementById(`do-${verb}`).disabled = fileManaged;
      del.disabled = fileManaged || !(status === "Stopped" || status === "Failed");
      if (!loaded) {
        loaded = true;
        const doc = await api("GET", `/api/v1/pipeline/${enc(id)}`);
        if (!alive()) return;
        const cp = doc.sink && doc.sink.connection_params;
        if (cp && typeof cp.password === "string" && cp.password !== "") {
          password = cp.password;
          cp.password = HIDDEN;
        }
        ed.area.value = JSON.stringify(doc, null, 2);
        ed.check();
      }
      updateSave();
      showNotice("");
    } catch (e) {
      if (!alive()) return;
      if (e instanceof ApiError && e.status === 404) {
        showNotice(`There is no pipeline ${id}.`);
        clearInterval(timer);
      } else showNotice(`Cannot read the pipeline: ${errorText(e)}`);
    }
  }
  every(refresh);
  loadTable();
}

// ---- dead letters

function viewDlq(main, id) {
  document.title = `Dead letters of ${id} · Sluice`;
  const alive = aliveCheck();
  const PAGE = 20;
  let cursor = 1, history = [];
  const reason = h("input", { id: "dlq-reason", type: "text", placeholder: "e.g. table_rejected" });
  const list = h("div", { id: "dlq-list" });
  const state = h("p", { id: "dlq-state", role: "status" });
  const result = h("p", { id: "reprocess-result", role: "status", "aria-live": "polite" });
  const prev = h("button", { type: "button", id: "dlq-prev", disabled: true }, "Previous page");
  const next = h("button", { type: "button", id: "dlq-next", disabled: true }, "Next page");
  const selected = h("button", { type: "button", id: "reprocess-selected", class: "primary" }, "Reprocess selected");
  const all = h("button", { type: "button", id: "reprocess-all" }, "Reprocess all");
  main.append(
    h("p", {}, h("a", { href: `#/pipeline/${enc(id)}` }, `← Pipeline ${id}`)),
    h("h1", {}, "Dead letters of ", h("code", {}, id)), state,
    h("form", { class: "toolbar", id: "dlq-filter", onsubmit: (e) => { e.preventDefault(); cursor = 1; history = []; load(); } },
      h("label", { for: "dlq-reason" }, "Reason"), reason, h("button", { type: "submit" }, "Filter")),
    h("div", { class: "toolbar" }, selected, all, prev, next), result, list);
  prev.addEventListener("click", () => { cursor = history.pop() || 1; load(); });
  next.addEventListener("click", () => { history.push(cursor); cursor = Number(next.dataset.cursor); load(); });
  async function reprocess(body) {
    result.textContent = "Reprocessing…";
    try {
      const r = await api("POST", `/api/v1/pipeline/${enc(id)}/dlq/reprocess`, body);
      result.textContent = `Reprocessed ${r.reprocessed}, skipped ${r.skipped.length}, ${r.remaining} left in the queue (${r.status}).`;
    } catch (e) { result.textContent = `Reprocess refused: ${errorText(e)}`; }
    cursor = 1; history = [];
    load();
  }
  selected.addEventListener("click", () => {
    const ids = [...list.querySelectorAll("input[type=checkbox]:checked")].map((c) => Number(c.value));
    if (!ids.length) { result.textContent = "Select dead letters first."; return; }
    reprocess({ mode: "selected", message_ids: ids });
  });
  all.addEventListener("click", () => reprocess({ mode: "all" }));
  async function load() {
    try {
      const st = await api("GET", `/api/v1/pipeline/${enc(id)}/dlq/state`);
      state.textContent = `${st.unconsumed_messages} dead letters in the queue.`;
      const q = `batch_size=${PAGE}&cursor=${cursor}` + (reason.value ? `&reason=${enc(reason.value)}` : "");
      const page = await api("GET", `/api/v1/pipeline/${enc(id)}/dlq/list?${q}`);
      if (!alive()) return;
      prev.disabled = !history.length;
      next.disabled = !page.has_more;
      next.dataset.cursor = page.next_cursor || "";
      if (!page.messages.length) {
        list.replaceChildren(h("p", {}, reason.value ? "No dead letter has this reason." : "The queue is empty."));
        return;
      }
      list.replaceChildren(...page.messages.map(letter));
    } catch (e) { if (alive()) showNotice(`Cannot read the dead letters: ${errorText(e)}`); }
  }
  function letter(m) {
    let record = m.original_message;
    try { record = JSON.stringify(JSON.parse(record), null, 2); } catch { /* shown as stored */ }
    const box = `dl-${m.message_id}`;
    return h("article", { class: "letter", "data-id": m.message_id, "aria-labelledby": `${box}-h` },
      h("header", {},
        h("input", { type: "checkbox", id: box, value: m.message_id }),
        h("label", { for: box }, h("span", { id: `${box}-h` }, `Dead letter ${m.message_id}`)),
        h("span", { class: "badge Failed" }, m.reason), h("span", { class: "muted" }, `${m.component} · ${m.received_at || ""}`)),
      h("div", { class: "two" },
        h("section", { "aria-label": "Record" }, h("h3", {}, "Record"), h("pre", { tabindex: 0 }, record)),
        h("section", { "aria-label": "Error" }, h("h3", {}, "Error"), h("pre", { tabindex: 0 }, m.error))));
  }
  load();
}

// ---- the token

function tokenUi() {
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  const state = document.getElementById("token-state");
  const forget = document.getElementById("token-forget");
  const show = () => {
    const set = !!sessionStorage.getItem(TOKEN_KEY);
    state.textContent = set ? "Token set" : "";
    forget.hidden = !set;
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.value) sessionStorage.setItem(TOKEN_KEY, input.value);
    input.value = "";  // never shown again
    show();
    route();
  });
  forget.addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    show();
    route();
  });
  show();
}

tokenUi();
// The skip link moves the focus without changing the page's address (and so its view).
document.querySelector(".skip").addEventListener("click", (e) => {
  e.preventDefault();
  document.getElementById("main").focus();
});
window.addEventListener("hashchange", () => {
  route();
  document.getElementById("main").focus();
});
route();
