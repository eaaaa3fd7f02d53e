-- wrk script for scripts/bench.sh: POSTs noop jobs to Quorum nodes.
--
--   QB_ADDRS="127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3" QB_BATCH=0 wrk -tT -cC -dDs -s submit.lua http://127.0.0.1:P1
--
-- Thread i talks to address i mod #QB_ADDRS (round-robin over the nodes; a connection is bound
-- to one address). QB_BATCH=0 sends one job per request to /api/jobs; QB_BATCH=N > 0 sends
-- {"jobs":[N jobs]} to /api/jobs/batch. QB_PREFER, when set, is sent as the Prefer header
-- (QB_PREFER=return=minimal: 201s with the id, state and links only). Prints one RESULT line
-- (latencies in ms).
local addrs = {}
local counter_threads = 0

function setup(thread)
  if #addrs == 0 then
    for hostport in string.gmatch(os.getenv("QB_ADDRS") or "", "[^,]+") do
      local host, port = string.match(hostport, "^(.*):(%d+)$")
      table.insert(addrs, wrk.lookup(host, port)[1])
    end
  end
  if #addrs > 0 then
    thread.addr = addrs[(counter_threads % #addrs) + 1]
  end
  counter_threads = counter_threads + 1
  thread:set("tid", counter_threads)
end

function init(args)
  local batch = tonumber(os.getenv("QB_BATCH") or "0")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local prefer = os.getenv("QB_PREFER") or ""
  if prefer ~= "" then wrk.headers["Prefer"] = prefer end
  if batch > 0 then
    local jobs = {}
    for i = 1, batch do jobs[i] = '{"name":"b","task":{"kind":"noop"}}' end
    wrk.path = "/api/jobs/batch"
    wrk.body = '{"jobs":[' .. table.concat(jobs, ",") .. ']}'
  else
    wrk.path = "/api/jobs"
    wrk.body = '{"name":"b","task":{"kind":"noop"}}'
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f mean_ms=%.3f "
      .. "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
