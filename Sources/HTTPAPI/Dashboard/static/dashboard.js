// The Quorum dashboard (docs/dashboard.md). Plain JavaScript, no build step, no other origin:
// every request goes to the node that served this page. Data from the API is only ever inserted
// as text (textContent, attribute values), never as HTML. Live through GET /api/events, read
// with fetch() streaming (EventSource cannot send an Authorization header).
"use strict";

const TOKEN_KEY = "quorum.token";
const $ = (id) => document.getElementById(id);

// ---- HTTP ----------------------------------------------------------------------------------

/** The token this tab uses, if any (sessionStorage: gone when the tab closes). */
function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

function authHeaders(extra) {
  const headers = Object.assign({}, extra || {});
  if (token()) headers["Authorization"] = "Bearer " + token();
  return headers;
}

class APIError extends Error {
  constructor(status, body) {
    const message = body && body.error ? body.error.message + (body.error.field ? " (" + body.error.field + ")" : "") : "HTTP " + status;
    super(message);
    this.status = status;
  }
}

/** Calls the API on this node; JSON in and out. A 401 asks for a token. */
async function api(method, path, body) {
  const init = { method, headers: authHeaders(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const response = await fetch(path, init);
  if (response.status === 401) {
    showTokenForm();
    throw new APIError(401, { error: { message: token() ? "this node refused the token: enter another above" : "this node asks for an API token: enter one above" } });
  }
  if (response.status === 204) return null;
  let json = null;
  try { json = await response.json(); } catch (_) { json = null; }
  if (!response.ok) throw new APIError(response.status, json);
  return json;
}

const seg = (id) => encodeURIComponent(id);

// ---- small DOM helpers (text only) ---------------------------------------------------------

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function cell(row, text, className) { const td = el("td", text, className); row.appendChild(td); return td; }

function link(text, href) { const a = el("a", text); a.href = href; return a; }

function button(text, onClick, className) {
  const b = el("button", text, className);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function fields(dl, pairs) {
  clear(dl);
  for (const [name, value] of pairs) {
    dl.appendChild(el("dt", name));
    dl.appendChild(el("dd", value === null || value === undefined ? "—" : typeof value === "object" ? JSON.stringify(value) : value));
  }
}

function time(text) {
  if (!text) return "—";
  const d = new Date(text);
  return isNaN(d) ? text : d.toLocaleString();
}

function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
}

function say(text, ok) {
  const m = $("message");
  m.textContent = text;
  m.className = ok ? "message ok" : "message";
  m.hidden = !text;
}

function stateClass(state) { return "st-" + String(state || "").replace(/[^A-Za-z-]/g, ""); }

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

async function guarded(fn) {
  try { await fn(); } catch (e) { say(e.message || String(e)); }
}

// ---- token ---------------------------------------------------------------------------------

function showTokenForm() { $("token-form").hidden = false; }

function setupToken() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token-input").value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    $("token-input").value = "";
    $("token-form").hidden = true;
    say("");
    events.restart();
    route();
    guarded(nodeName);
  });
  $("token-forget").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); events.restart(); });
}

// ---- live events ---------------------------------------------------------------------------

/** Follows GET /api/events with fetch streaming; reconnects with Last-Event-ID. */
const events = {
  lastId: "",
  controller: null,
  retry: 500,
  listeners: [],

  on(fn) { this.listeners.push(fn); },

  restart() { if (this.controller) this.controller.abort(); this.controller = null; this.lastId = ""; this.start(); },

  status(live, text) {
    const badge = $("live-status");
    badge.textContent = text || (live ? "live" : "reconnecting");
    badge.className = live ? "badge on" : "badge off";
  },

  async start() {
    const controller = new AbortController();
    this.controller = controller;
    try {
      const headers = authHeaders({ "Accept": "text/event-stream" });
      if (this.lastId) headers["Last-Event-ID"] = this.lastId;
      const response = await fetch("/api/events", { headers, signal: controller.signal, cache: "no-store" });
      if (response.status === 401) { showTokenForm(); this.status(false, "needs a token"); return; }
      if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
      this.status(true);
      this.retry = 500;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.dispatch(block);
        }
      }
    } catch (e) {
      if (controller.signal.aborted) return;
    }
    if (this.controller !== controller) return;
    this.status(false);
    // Back off up to 5 s; the node may be restarting or the network gone.
    setTimeout(() => { if (this.controller === controller) this.start(); }, this.retry);
    this.retry = Math.min(this.retry * 2, 5000);
  },

  dispatch(block) {
    let type = "message", data = "", id = null;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (name === "event") type = value;
      else if (name === "data") data += (data ? "\n" : "") + value;
      else if (name === "id") id = value;
    }
    if (id !== null && /^[0-9]+$/.test(id)) this.lastId = id;
    if (!data && type === "message") return;
    let payload = {};
    try { payload = data ? JSON.parse(data) : {}; } catch (_) { payload = {}; }
    for (const fn of this.listeners) {
      try { fn(type, payload); } catch (e) { console.error(e); }
    }
  },
};

// ---- views ---------------------------------------------------------------------------------

const views = ["jobs", "job", "dags", "dag", "dlq", "cluster", "cron", "submit"];
let current = { view: "", id: "" };
let clusterTimer = null;

function show(view) {
  for (const v of views) $("view-" + v).hidden = v !== view;
  const nav = view === "job" ? "jobs" : view === "dag" ? "dags" : view;
  for (const a of document.querySelectorAll("header nav a")) a.classList.toggle("active", a.dataset.view === nav);
}

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const name = parts[0] || "jobs";
  // A hand-edited or crafted link may hold a malformed %-escape: decodeURIComponent throws on
  // it, which would leave the page on the previous view with nothing said.
  let id = "", problem = "";
  try {
    id = parts.length > 1 ? decodeURIComponent(parts.slice(1).join("/")) : "";
  } catch (_) {
    problem = "the address after # has a malformed %-escape: showing the list instead";
  }
  let view = name;
  if (problem) view = name === "dags" ? "dags" : "jobs";
  if (name === "jobs" && id) view = "job";
  if (name === "dags" && id) view = "dag";
  if (!views.includes(view)) view = "jobs";
  current = { view, id };
  show(view);
  say(problem);
  if (clusterTimer) { clearInterval(clusterTimer); clusterTimer = null; }
  switch (view) {
    case "jobs": return guarded(() => jobs.list(false));
    case "job": return guarded(() => job.load(id));
    case "dags": return guarded(() => dags.list(false));
    case "dag": return guarded(() => dag.load(id));
    case "dlq": return guarded(() => dlq.list(false));
    case "cluster":
      clusterTimer = setInterval(() => guarded(cluster.load), 2000);
      return guarded(cluster.load);
    case "cron": return guarded(cron.preview);
    default: return undefined;
  }
}

// Jobs list -------------------------------------------------------------------------------------

const jobs = {
  cursor: null,
  rows: new Map(),

  query() {
    const params = new URLSearchParams();
    const state = $("jobs-state").value;
    const label = $("jobs-label").value.trim();
    if (state) params.set("state", state);
    if (label) params.append("label", label);
    params.set("limit", "100");
    return params;
  },

  async list(more) {
    const params = this.query();
    if (more && this.cursor) params.set("cursor", this.cursor);
    const page = await api("GET", "/api/jobs?" + params.toString());
    const body = $("jobs-table").tBodies[0];
    if (!more) { clear(body); this.rows.clear(); }
    const type = $("jobs-type").value;
    for (const j of page.items) {
      if (type && j.type !== type) continue;
      body.appendChild(this.row(j));
    }
    this.cursor = page.next_cursor || null;
    $("jobs-more").hidden = !this.cursor;
  },

  row(j) {
    const tr = el("tr");
    tr.dataset.jobId = j.id;
    cell(tr, "").appendChild(link(j.name, "#/jobs/" + seg(j.id)));
    cell(tr, j.id, "muted");
    cell(tr, j.type);
    cell(tr, j.state, "state " + stateClass(j.state));
    cell(tr, j.status, "status " + stateClass(j.status));
    cell(tr, j.priority);
    cell(tr, Object.entries(j.labels || {}).map(([k, v]) => k + ":" + v).join(" "));
    cell(tr, time(j.updated_at), "updated");
    this.rows.set(j.id, tr);
    return tr;
  },

  refreshStatus: new Map(),

  /** A job event: update its row at once, then read its coarse status. */
  onEvent(e) {
    const tr = this.rows.get(e.job_id);
    if (!tr) { if (e.type === "job" && e.state !== "removed") relistJobs(); return; }
    if (e.type === "job" && e.state) {
      if (e.state === "removed") { tr.remove(); this.rows.delete(e.job_id); return; }
      const td = tr.querySelector("td.state");
      td.textContent = e.state;
      td.className = "state " + stateClass(e.state);
    }
    let refresh = this.refreshStatus.get(e.job_id);
    if (!refresh) {
      refresh = debounce((id) => guarded(async () => {
        const s = await api("GET", "/api/job-status/" + seg(id));
        const row = this.rows.get(id);
        if (!row) return;
        const state = row.querySelector("td.state"), status = row.querySelector("td.status");
        state.textContent = s.state; state.className = "state " + stateClass(s.state);
        status.textContent = s.status; status.className = "status " + stateClass(s.status);
        row.querySelector("td.updated").textContent = time(s.updated_at);
      }), 150);
      this.refreshStatus.set(e.job_id, refresh);
    }
    refresh(e.job_id);
  },
};
const relistJobs = debounce(() => { if (current.view === "jobs") guarded(() => jobs.list(false)); }, 300);

// Job detail ------------------------------------------------------------------------------------

const job = {
  async load(id) {
    const j = await api("GET", "/api/jobs/" + seg(id));
    $("job-title").textContent = j.name + " (" + j.id + ")";
    const pairs = [["id", j.id], ["name", j.name], ["type", j.type], ["state", j.state], ["status", j.status],
      ["priority", j.priority], ["task", j.task], ["retry", j.retry], ["timeout", j.timeout_seconds + " s"],
      ["labels", j.labels], ["constraints", j.constraints], ["max per node", j.max_per_node], ["waiting", j.reason], ["attempt", j.attempt], ["tries", j.tries], ["created", time(j.created_at)], ["updated", time(j.updated_at)]];
    if (j.type === "cron") pairs.push(["schedule", j.schedule + " (" + j.timezone + ")"], ["next run", time(j.next_run_at)], ["concurrency", j.concurrency]);
    else pairs.push(["run at", time(j.run_at)]);
    fields($("job-fields"), pairs);
    $("job-pause").hidden = j.type !== "cron";
    $("job-resume").hidden = j.type !== "cron";
    const runs = await api("GET", "/api/jobs/" + seg(id) + "/runs");
    const body = $("runs-table").tBodies[0];
    clear(body);
    for (const r of runs.items) {
      const tr = el("tr");
      tr.dataset.runId = r.run_id;
      cell(tr, r.run_id);
      cell(tr, r.attempt);
      cell(tr, r.executor);
      cell(tr, r.state, "state " + stateClass(r.state));
      cell(tr, r.outcome, stateClass(r.outcome === "succeeded" ? "succeeded" : r.outcome ? "dead" : ""));
      cell(tr, time(r.started_at));
      cell(tr, time(r.finished_at));
      cell(tr, duration(r.duration_ms));
      cell(tr, r.exit_code !== null && r.exit_code !== undefined ? r.exit_code : r.http_status);
      cell(tr, r.error);
      cell(tr, "").appendChild(button("output", () => guarded(() => this.output(j.id, r.run_id, r.attempt))));
      body.appendChild(tr);
    }
    if (runs.items.length) {
      const latest = runs.items[0];
      $("output-title").textContent = latest.run_id + " attempt " + latest.attempt + " (replicated tail)";
      $("output-text").textContent = latest.output_tail || "";
    } else {
      $("output-title").textContent = "";
      $("output-text").textContent = "";
    }
  },

  async output(jobID, runID, attempt) {
    const o = await api("GET", "/api/jobs/" + seg(jobID) + "/runs/" + seg(runID) + "/output?attempt=" + attempt);
    $("output-title").textContent = runID + " attempt " + attempt + " (" + o.source + (o.complete ? ", complete" : ", last 4 KiB") + ")";
    $("output-text").textContent = o.output_tail || "";
  },

  async act(method, suffix, what) {
    await api(method, "/api/jobs/" + seg(current.id) + suffix);
    say(what, true);
    await this.load(current.id);
  },
};
const reloadJob = debounce(() => { if (current.view === "job") guarded(() => job.load(current.id)); }, 200);

// DAG runs --------------------------------------------------------------------------------------

const dags = {
  cursor: null,
  async list(more) {
    const params = new URLSearchParams({ limit: "100" });
    if (more && this.cursor) params.set("cursor", this.cursor);
    const page = await api("GET", "/api/dags?" + params.toString());
    const body = $("dags-table").tBodies[0];
    if (!more) clear(body);
    for (const d of page.items) {
      const tr = el("tr");
      tr.dataset.dagId = d.id;
      cell(tr, "").appendChild(link(d.name, "#/dags/" + seg(d.id)));
      cell(tr, d.id, "muted");
      cell(tr, d.state, "state " + stateClass(d.state));
      cell(tr, (d.tasks || []).length);
      cell(tr, time(d.created_at));
      cell(tr, time(d.finished_at));
      body.appendChild(tr);
    }
    this.cursor = page.next_cursor || null;
    $("dags-more").hidden = !this.cursor;
  },
};
const relistDags = debounce(() => { if (current.view === "dags") guarded(() => dags.list(false)); }, 300);

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

const dag = {
  async load(id) {
    const d = await api("GET", "/api/dags/" + seg(id));
    $("dag-title").textContent = d.name + " (" + d.id + ")";
    fields($("dag-fields"), [["id", d.id], ["name", d.name], ["state", d.state], ["job", d.job_id],
      ["created", time(d.created_at)], ["finished", time(d.finished_at)]]);
    this.graph(d.tasks || []);
    const body = $("dag-tasks").tBodies[0];
    clear(body);
    for (const t of d.tasks || []) {
      const tr = el("tr");
      tr.dataset.task = t.id;
      cell(tr, t.id);
      cell(tr, t.state, "state " + stateClass(t.state));
      // Why a queued task waits for a node ("no node with gpu=true"); absent otherwise.
      cell(tr, t.reason || "", "reason");
      cell(tr, (t.depends_on || []).join(", "));
      cell(tr, t.attempt);
      cell(tr, t.run_id);
      cell(tr, time(t.started_at));
      cell(tr, time(t.finished_at));
      const actions = cell(tr, "");
      if (t.state === "dead" && t.run_id) {
        actions.appendChild(button("Resume from DLQ", () => guarded(async () => {
          await api("POST", "/api/dlq/" + seg(t.run_id) + "/requeue");
          say("requeued " + t.run_id + ": the DAG run continues", true);
          await this.load(id);
        }), "requeue"));
      }
      body.appendChild(tr);
    }
  },

  /** A layered layout: a task's layer is its longest path from a root. */
  graph(tasks) {
    const box = $("dag-graph");
    clear(box);
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const layer = new Map();
    const depth = (t, seen) => {
      if (layer.has(t.id)) return layer.get(t.id);
      if (seen.has(t.id)) return 0; // a cycle cannot be submitted; never loop on one anyway
      seen.add(t.id);
      let l = 0;
      for (const dep of t.depends_on || []) if (byId.has(dep)) l = Math.max(l, depth(byId.get(dep), seen) + 1);
      layer.set(t.id, l);
      return l;
    };
    for (const t of tasks) depth(t, new Set());
    const columns = [];
    for (const t of tasks) { const l = layer.get(t.id); (columns[l] = columns[l] || []).push(t); }
    const W = 160, H = 46, GX = 70, GY = 24, PAD = 14;
    const pos = new Map();
    let height = 0;
    columns.forEach((col, x) => {
      col.forEach((t, y) => pos.set(t.id, { x: PAD + x * (W + GX), y: PAD + y * (H + GY) }));
      height = Math.max(height, col.length);
    });
    const width = PAD * 2 + Math.max(columns.length, 1) * (W + GX) - GX;
    box.setAttribute("width", width);
    box.setAttribute("height", PAD * 2 + Math.max(height, 1) * (H + GY) - GY);
    box.setAttribute("viewBox", "0 0 " + width + " " + (PAD * 2 + Math.max(height, 1) * (H + GY) - GY));
    for (const t of tasks) {
      for (const dep of t.depends_on || []) {
        const a = pos.get(dep), b = pos.get(t.id);
        if (!a || !b) continue;
        const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x - 6, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
        box.appendChild(svg("path", { class: "edge", d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` }));
        box.appendChild(svg("polygon", { class: "arrow", points: `${x2},${y2 - 5} ${x2 + 6},${y2} ${x2},${y2 + 5}` }));
      }
    }
    for (const t of tasks) {
      const p = pos.get(t.id);
      const g = svg("g", { class: "dag-node " + stateClass(t.state), "data-task": t.id, transform: `translate(${p.x},${p.y})` });
      g.appendChild(svg("title", {}, t.id + ": " + t.state));
      g.appendChild(svg("rect", { width: W, height: H }));
      const name = t.id.length > 22 ? t.id.slice(0, 21) + "…" : t.id;
      g.appendChild(svg("text", { x: 10, y: 19 }, name));
      g.appendChild(svg("text", { x: 10, y: 36, class: "task-state" }, t.state + (t.attempt ? " · attempt " + t.attempt : "")));
      box.appendChild(g);
    }
  },
};
const reloadDag = debounce(() => { if (current.view === "dag") guarded(() => dag.load(current.id)); }, 200);

// DLQ -------------------------------------------------------------------------------------------

const dlq = {
  cursor: null,
  async list(more) {
    const params = new URLSearchParams({ limit: "100" });
    if (more && this.cursor) params.set("cursor", this.cursor);
    const page = await api("GET", "/api/dlq?" + params.toString());
    const body = $("dlq-table").tBodies[0];
    if (!more) clear(body);
    for (const item of page.items) {
      const tr = el("tr");
      tr.dataset.runId = item.run_id;
      cell(tr, item.run_id);
      cell(tr, "").appendChild(link(item.job_id, "#/jobs/" + seg(item.job_id)));
      const dagCell = cell(tr, "");
      if (item.dag_id) dagCell.appendChild(link(item.dag_id, "#/dags/" + seg(item.dag_id)));
      cell(tr, item.task_id);
      cell(tr, item.attempts);
      cell(tr, item.error);
      cell(tr, time(item.dead_at));
      const actions = cell(tr, "");
      actions.appendChild(button("Requeue", () => guarded(async () => {
        await api("POST", "/api/dlq/" + seg(item.run_id) + "/requeue");
        say("requeued " + item.run_id, true);
        await this.list(false);
      }), "requeue"));
      actions.appendChild(button("Purge", () => guarded(async () => {
        if (!window.confirm("Purge " + item.run_id + " from the DLQ? It cannot be requeued afterwards.")) return;
        await api("DELETE", "/api/dlq/" + seg(item.run_id));
        say("purged " + item.run_id, true);
        await this.list(false);
      }), "purge danger"));
      body.appendChild(tr);
    }
    this.cursor = page.next_cursor || null;
    $("dlq-more").hidden = !this.cursor;
  },
};
const relistDLQ = debounce(() => { if (current.view === "dlq") guarded(() => dlq.list(false)); }, 300);

// Cluster ---------------------------------------------------------------------------------------

const cluster = {
  async load() {
    const c = await api("GET", "/api/cluster");
    $("node-name").textContent = c.node ? "node " + c.node : "";
    fields($("cluster-fields"), [["leader", c.leader === null ? "none" : c.leader], ["term", c.term],
      ["this node", c.node], ["its commit index", c.commit_index], ["its applied index", c.applied_index],
      ["members as seen by", c.source === "leader" ? "the leader (" + c.leader + ")" : "this node"],
      ["view age", c.view_age_ms === undefined || c.view_age_ms === null ? "—" : c.view_age_ms + " ms"]]);
    const body = $("cluster-table").tBodies[0];
    clear(body);
    for (const n of c.nodes) {
      const tr = el("tr");
      tr.dataset.node = n.id;
      cell(tr, n.id + (n.id === c.node ? " (this node)" : ""));
      cell(tr, n.role, "role " + (n.role === "leader" ? "st-succeeded" : ""));
      cell(tr, n.reachable ? "yes" : "no", n.reachable ? "" : "st-dead");
      cell(tr, n.match_index);
      cell(tr, n.applied_index === undefined ? "—" : n.applied_index);
      cell(tr, n.lag === undefined ? "—" : n.lag);
      cell(tr, n.slots);
      cell(tr, n.busy);
      cell(tr, n.draining ? "yes" : "no", n.draining ? "st-dead" : "");
      cell(tr, Object.entries(n.labels || {}).map(([k, v]) => k + "=" + v).join(" "));
      cell(tr, n.api, "muted");
      cell(tr, n.format_version === undefined ? "—" : n.format_version);
      // The leader's replica check (docs/guarantees.md): diverged members get no work until cleared.
      const check = n.replica_check;
      cell(tr, check === undefined ? "—"
        : check.state === "diverged" ? "diverged at " + check.mismatch_index + " (leader " + check.leader_digest + ", this "
          + check.member_digest + "): no work until quorum cluster clear-divergence " + n.id
        : "ok" + (check.verified_index === undefined ? "" : " at " + check.verified_index),
        check !== undefined && check.state === "diverged" ? "st-dead" : "");
      body.appendChild(tr);
    }
    $("cluster-note").textContent = c.source === "leader" || c.leader === c.node
      ? "Match and applied indexes, lag and busy slots are the leader's view; refreshed every 2 s."
      : "No leader view: this node shows what it knows itself (no leader, or the leader does not answer).";
  },
};

// Cron preview ----------------------------------------------------------------------------------

const cron = {
  async preview() {
    // encodeURIComponent: spaces as %20 (URLSearchParams would write "+").
    const query = "expr=" + encodeURIComponent($("cron-expr").value) + "&tz=" + encodeURIComponent($("cron-tz").value || "UTC") + "&count=5";
    const list = $("cron-times");
    clear(list);
    try {
      const p = await api("GET", "/api/cron/next?" + query);
      for (const t of p.times) list.appendChild(el("li", t));
      if (!p.times.length) list.appendChild(el("li", "never fires again"));
    } catch (e) {
      list.appendChild(el("li", e.message, "st-dead"));
    }
  },
};

// Submit ----------------------------------------------------------------------------------------

const examples = {
  job: { name: "hello", task: { kind: "shell", command: ["/bin/echo", "hello from quorum"] }, retry: { max_attempts: 3 }, labels: { team: "data" } },
  dag: { name: "etl", tasks: [
    { id: "extract", task: { kind: "sleep", seconds: 1 } },
    { id: "transform", task: { kind: "noop" }, depends_on: ["extract"] },
    { id: "load", task: { kind: "noop" }, depends_on: ["transform"] },
    { id: "report", task: { kind: "noop" }, depends_on: ["extract"] }] },
};

function setupSubmit() {
  const fill = () => { $("submit-body").value = JSON.stringify(examples[$("submit-kind").value], null, 2); };
  $("submit-example").addEventListener("click", fill);
  $("submit-kind").addEventListener("change", fill);
  fill();
  $("submit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(async () => {
      const result = $("submit-result");
      clear(result);
      const text = $("submit-body").value;
      try { JSON.parse(text); } catch (e) { throw new Error("the body is not JSON: " + e.message); }
      const kind = $("submit-kind").value;
      const created = await api("POST", kind === "dag" ? "/api/dags" : "/api/jobs", text);
      // A scheduled DAG answers with its cron job.
      const isJob = kind === "job" || created.tasks === undefined;
      result.appendChild(el("span", "created " + (isJob ? "job " : "DAG run ")));
      const a = link(created.id, (isJob ? "#/jobs/" : "#/dags/") + seg(created.id));
      a.id = "submit-link";
      result.appendChild(a);
    });
  });
}

// ---- wiring --------------------------------------------------------------------------------

events.on((type, e) => {
  if (type === "reset") {
    // The node could not resume the stream: list again.
    route();
    return;
  }
  if (type === "leader") {
    if (current.view === "cluster") guarded(cluster.load);
    return;
  }
  if (type === "job" || type === "run") {
    if (current.view === "jobs") jobs.onEvent(e);
    if (current.view === "job" && e.job_id === current.id) reloadJob();
    if (type === "run" && (e.state === "dead" || e.state === "queued")) relistDLQ();
  }
  if (current.view === "dag" && e.dag_id === current.id) reloadDag();
  if (type === "dag" && current.view === "dags") relistDags();
});

function setup() {
  setupToken();
  setupSubmit();
  $("jobs-filter").addEventListener("submit", (event) => { event.preventDefault(); guarded(() => jobs.list(false)); });
  $("jobs-more").addEventListener("click", () => guarded(() => jobs.list(true)));
  $("dags-more").addEventListener("click", () => guarded(() => dags.list(true)));
  $("dlq-more").addEventListener("click", () => guarded(() => dlq.list(true)));
  $("job-trigger").addEventListener("click", () => guarded(() => job.act("POST", "/trigger", "triggered")));
  $("job-pause").addEventListener("click", () => guarded(() => job.act("POST", "/pause", "paused")));
  $("job-resume").addEventListener("click", () => guarded(() => job.act("POST", "/resume", "resumed")));
  $("job-cancel").addEventListener("click", () => guarded(() => job.act("DELETE", "", "cancelled")));
  $("dag-cancel").addEventListener("click", () => guarded(async () => {
    await api("DELETE", "/api/dags/" + seg(current.id));
    say("cancelled", true);
    await dag.load(current.id);
  }));
  $("cron-form").addEventListener("submit", (event) => { event.preventDefault(); guarded(cron.preview); });
  window.addEventListener("hashchange", route);
  events.start();
  route();
  guarded(nodeName);
}

/** Shows which node served the page (its event stream is the one followed). */
async function nodeName() {
  const c = await api("GET", "/api/cluster");
  $("node-name").textContent = c.node ? "node " + c.node : "";
}

document.addEventListener("DOMContentLoaded", setup);
