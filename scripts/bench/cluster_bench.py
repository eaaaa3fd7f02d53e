#!/usr/bin/env python3
"""Cluster benchmark helper for scripts/bench.sh (standard library only, loopback only).

Subcommands (all take --dir, the benchmark's temp directory, which holds the config, the
certificates, the data, the logs and one pid file per node under pids/):

  up        write a 3-node config on free loopback ports, create certificates, start the nodes,
            wait for a leader (TLS between peers; fsync is always on in Quorum)
  down      SIGTERM, then SIGKILL, exactly the pids in pids/ (checked against their argv)
  leader    print the leader's id, API URL and pid
  terms     print every live node's view (leader, term) as one JSON line
  load      load --jobs pending jobs (delayed a day) in batches through the leader, then wait
            until every node has caught up with the leader's commit index
  drain     submit N noop jobs in batches, time until none is pending, queued or running
  lag       schedule lag (started_at - scheduled_at) of sampled jobs, idle or under a
            background load of --load-rate jobs/s
  reads     load --jobs labelled pending jobs, then time single-job writes on the leader for
            --seconds without readers and again while --readers processes loop a two-label
            GET /api/jobs?label=a:b3&label=x:y5&limit=50 on the leader (issue #12)
  failover  --kills times: SIGKILL the leader, time to the next 201 on a surviving node,
            restart the killed node, wait until it caught up
  memory    load --jobs pending jobs (delayed a day) in batches, then sample every node's
            resident size (/proc/PID/statm, every --sample-ms) while idle and while single
            submissions go on until every node has written a new snapshot file; prints the idle
            RSS and the peak during the snapshot per node (issues #12 and #18)
  retention submit --rate noop jobs/s with a short --retention-s for --minutes and print every
            node's resident size each minute (issue #12: it must level off)
  rejoin    under a steady load of short sleep jobs (--rate jobs/s, --task-s each), --kills
            times: SIGKILL a follower, start it again at once, and time from its start to its
            first running attempt (quorum_executor_busy > 0 on its /metrics, polled every 10 ms)

`up` appends the environment's BENCH_EXTRA_TOML (TOML text; a literal \\n is a newline) to the
config before the node list, for sections the script does not write itself, e.g.
BENCH_EXTRA_TOML='[api]\\nmax_concurrent_reads = 1'.

Every loop is bounded by a count and a deadline. Results are printed as one JSON line
prefixed with RESULT and appended to --results (JSON lines) when given.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime

NODE_IDS = ["n1", "n2", "n3"]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- HTTP

def request(url, method="GET", path="/", body=None, timeout=5.0):
    """One HTTP request on a fresh connection: (status, parsed JSON or None). Raises on I/O errors."""
    host, port = url.replace("http://", "").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return resp.status, parsed
    finally:
        conn.close()


class Client:
    """A keep-alive connection to one node (one per thread)."""

    def __init__(self, url, timeout=30.0):
        host, port = url.replace("http://", "").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn = None

    def call(self, method, path, body=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                data = None if body is None else json.dumps(body).encode()
                headers = {"Content-Type": "application/json"} if data is not None else {}
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None)
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")


def parse_ts(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def percentile(values, p):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def emit(args, result):
    line = json.dumps(result, sort_keys=True)
    print("RESULT " + line, flush=True)
    if getattr(args, "results", None):
        with open(args.results, "a") as f:
            f.write(line + "\n")


# ---------------------------------------------------------------- cluster files

def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def cluster_file(d):
    return os.path.join(d, "cluster.json")


def load_cluster(d):
    with open(cluster_file(d)) as f:
        return json.load(f)


def pid_file(d, node):
    return os.path.join(d, "pids", node)


def node_pid(d, node):
    try:
        with open(pid_file(d, node)) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def argv_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def is_our_node(d, node, pid):
    """The pid is alive, not a zombie, and runs `quorum node` with our config and this id."""
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    except (OSError, IndexError):
        return False
    argv = argv_of(pid)
    return f"--config {os.path.join(d, 'cluster.toml')} --id {node} " in argv + " "


def start_node(d, c, node):
    logf = open(os.path.join(d, "logs", f"{node}.log"), "ab")
    proc = subprocess.Popen([c["bin"], "node", "--config", os.path.join(d, "cluster.toml"), "--id", node],
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True,
                            env={**os.environ, "QUORUM_LOG_LEVEL": os.environ.get("QUORUM_LOG_LEVEL", "notice")})
    with open(pid_file(d, node), "w") as f:
        f.write(f"{proc.pid}\n")
    logf.close()
    return proc


def cluster_views(c, timeout=1.0):
    views = {}
    for node, url in c["api"].items():
        try:
            status, body = request(url, path="/api/cluster", timeout=timeout)
            if status == 200 and body:
                views[node] = body
        except (OSError, http.client.HTTPException):
            pass
    return views


def wait_leader(c, deadline_s=60.0, exclude=None):
    """(leader id, term) once a live node (not `exclude`) names a leader that is not `exclude`."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        for node, view in cluster_views(c).items():
            if node != exclude and view.get("leader") and view["leader"] != exclude:
                return view["leader"], view.get("term")
        time.sleep(0.05)
    raise SystemExit(f"no leader within {deadline_s} s")


def cmd_up(args):
    d = os.path.abspath(args.dir)
    for sub in ("pids", "logs", "data", "certs"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    ports = free_ports(2 * len(NODE_IDS))
    c = {"bin": os.path.abspath(args.bin), "api": {}, "raft": {}}
    nodes_toml = []
    for i, node in enumerate(NODE_IDS):
        c["raft"][node] = f"127.0.0.1:{ports[2 * i]}"
        c["api"][node] = f"http://127.0.0.1:{ports[2 * i + 1]}"
        nodes_toml.append(f'[[nodes]]\nid = "{node}"\nraft = "{c["raft"][node]}"\napi = "127.0.0.1:{ports[2 * i + 1]}"\n')
    toml = f"""# Written by scripts/bench/cluster_bench.py for one benchmark run.
[cluster]
name = "bench-3"
data_dir = "{d}/data/{{id}}"

[raft]
heartbeat_ms = {args.heartbeat_ms}
election_timeout_ms = [{args.election_min_ms}, {args.election_max_ms}]

[tls]
ca = "{d}/certs/ca.pem"
cert = "{d}/certs/{{id}}.pem"
key = "{d}/certs/{{id}}.key"

[executor]
slots = {args.slots}
shutdown_grace_ms = 1000
""" + (f"prefetch = {args.prefetch}\n" if args.prefetch else "") + """
""" + (f"[quotas]\nmax_pending_jobs = {args.max_pending_jobs}\n\n" if args.max_pending_jobs else "") \
        + (os.environ.get("BENCH_EXTRA_TOML", "").replace("\\n", "\n") + "\n\n" if os.environ.get("BENCH_EXTRA_TOML") else "") \
        + "\n".join(nodes_toml)
    with open(os.path.join(d, "cluster.toml"), "w") as f:
        f.write(toml)
    with open(cluster_file(d), "w") as f:
        json.dump(c, f)
    cfg = os.path.join(d, "cluster.toml")
    if not os.path.exists(os.path.join(d, "certs", "ca.pem")):
        subprocess.run([c["bin"], "certs", "init", "--config", cfg, "--out", os.path.join(d, "certs")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    for node in NODE_IDS:
        if not os.path.exists(os.path.join(d, "certs", f"{node}.pem")):
            subprocess.run([c["bin"], "certs", "issue", "--ca", os.path.join(d, "certs"), "--id", node,
                            "--host", "127.0.0.1"], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
    for node in NODE_IDS:
        start_node(d, c, node)
    leader, term = wait_leader(c)
    # Writes need the leader to have committed an entry of its term; wait for a first write.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status, _ = request(c["api"][NODE_IDS[0]], "POST", "/api/jobs",
                                {"name": "warm-up", "task": {"kind": "noop"}}, timeout=5)
            if status == 201:
                break
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    log(f"cluster up in {d}: leader {leader} (term {term}); APIs {' '.join(c['api'].values())}")
    print(" ".join(c["api"].values()))


def stop_pid(d, node, pid, grace):
    if not is_our_node(d, node, pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and is_our_node(d, node, pid):
        time.sleep(0.05)
    if is_our_node(d, node, pid):
        log(f"{node} (pid {pid}) still running after {grace} s; SIGKILL")
        os.kill(pid, signal.SIGKILL)


def cmd_down(args):
    d = os.path.abspath(args.dir)
    if not os.path.isdir(os.path.join(d, "pids")):
        return
    threads = []
    for node in NODE_IDS:
        pid = node_pid(d, node)
        t = threading.Thread(target=stop_pid, args=(d, node, pid, args.grace))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def current_leader(c):
    views = cluster_views(c)
    for view in views.values():
        if view.get("leader"):
            return view["leader"]
    return None


def cmd_leader(args):
    d = os.path.abspath(args.dir)
    c = load_cluster(d)
    leader, _ = wait_leader(c, 30)
    print(leader, c["api"][leader], node_pid(d, leader))


def cmd_terms(args):
    c = load_cluster(os.path.abspath(args.dir))
    views = cluster_views(c)
    print(json.dumps({n: {"leader": v.get("leader"), "term": v.get("term")} for n, v in views.items()}, sort_keys=True))


# ---------------------------------------------------------------- drain

def submit_batches(c, total, batch, conns, name, deadline):
    """Submits `total` noop jobs in batches over `conns` connections, round-robin over the nodes.
    Returns the ids in submission order per batch (unordered across batches)."""
    urls = list(c["api"].values())
    batches = [min(batch, total - i) for i in range(0, total, batch)]
    ids, errors = [], []
    lock = threading.Lock()
    counter = iter(range(len(batches)))

    def worker(k):
        client = Client(urls[k % len(urls)], timeout=60)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            body = {"jobs": [{"name": f"{name}-{i}-{j}", "task": {"kind": "noop"}} for j in range(batches[i])]}
            for _ in range(20):  # a 503 during an election is retried, bounded
                status, answer = client.call("POST", "/api/jobs/batch", body)
                if status == 201:
                    with lock:
                        ids.extend(answer["ids"])
                    break
                time.sleep(0.2)
            else:
                with lock:
                    errors.append(status)

    with concurrent.futures.ThreadPoolExecutor(conns) as pool:
        list(pool.map(worker, range(conns)))
    return ids, errors


def count_state(client, state):
    status, body = client.call("GET", f"/api/jobs?state={state}&limit=1")
    if status != 200:
        return None
    return len(body["items"])


def succeeded_count(url):
    """quorum_runs_finished_total{outcome="succeeded"} on one node's /metrics (None if unreadable)."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("quorum_runs_finished_total") and 'outcome="succeeded"' in line:
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def wait_succeeded(c, count, deadline, poll_s=0.05):
    """Polls a follower's /metrics until `count` attempts succeeded: no job-table scan, so the
    poll does not compete with apply (the list poll below scans on the applying actor)."""
    leader = current_leader(c)
    node = next((n for n in NODE_IDS if n != leader), NODE_IDS[0])
    polls = 0
    while time.monotonic() < deadline:
        polls += 1
        done = succeeded_count(c["api"][node])
        if done is not None and done >= count:
            return time.monotonic(), polls
        time.sleep(poll_s)
    return None, polls


def wait_all_finished(c, deadline, poll_s=0.05, node=None):
    """Polls (on a follower if possible) until no job is pending, queued or running."""
    leader = current_leader(c)
    node = node or next((n for n in NODE_IDS if n != leader), NODE_IDS[0])
    client = Client(c["api"][node], timeout=10)
    polls = 0
    while time.monotonic() < deadline:
        polls += 1
        if all(count_state(client, s) == 0 for s in ("running", "queued", "pending")):
            return time.monotonic(), polls
        time.sleep(poll_s)
    return None, polls


def cmd_drain(args):
    d = os.path.abspath(args.dir)
    c = load_cluster(d)
    deadline = time.monotonic() + args.max_s
    t0 = time.monotonic()
    ids, errors = submit_batches(c, args.jobs, args.batch, args.conns, "drain", deadline)
    t_submitted = time.monotonic()
    if args.poll == "metrics":
        t_done, polls = wait_succeeded(c, len(ids), deadline)
    else:
        t_done, polls = wait_all_finished(c, deadline)
    # Check a sample of the jobs succeeded (the poll only says none is still waiting).
    client = Client(c["api"][NODE_IDS[0]])
    sample = ids[:: max(1, len(ids) // 50)]
    states = {}
    for job in sample:
        status, body = client.call("GET", f"/api/job-status/{job}")
        states[body.get("state") if status == 200 and body else f"http {status}"] = \
            states.get(body.get("state") if status == 200 and body else f"http {status}", 0) + 1
    result = {"phase": "drain", "jobs": len(ids), "batch": args.batch, "conns": args.conns, "slots": args.slots,
              "submit_errors": len(errors), "submit_s": round(t_submitted - t0, 3),
              "submit_jobs_per_s": round(len(ids) / (t_submitted - t0), 1),
              "sample_states": states, "polls": polls, "poll": args.poll}
    if t_done is None:
        result.update(completed=False, total_s=None, jobs_per_s=None)
    else:
        result.update(completed=True, total_s=round(t_done - t0, 3),
                      jobs_per_s=round(len(ids) / (t_done - t0), 1))
    emit(args, result)


# ---------------------------------------------------------------- lag

def cmd_lag(args):
    d = os.path.abspath(args.dir)
    c = load_cluster(d)
    urls = list(c["api"].values())
    deadline = time.monotonic() + args.max_s
    stop = threading.Event()
    load_count = [0]

    def background():
        # --load-rate jobs/s as a batch every --load-tick-ms (100 by default: bursts of a tenth of
        # a second's jobs; 10 spreads them out), round-robin over the nodes.
        clients = [Client(u, timeout=30) for u in urls]
        tick_s = args.load_tick_ms / 1000
        per_tick = max(1, int(round(args.load_rate * tick_s)))
        k, next_at = 0, time.monotonic()
        while not stop.is_set() and time.monotonic() < deadline:
            body = {"jobs": [{"name": f"load-{k}-{j}", "task": {"kind": "noop"}} for j in range(per_tick)]}
            try:
                status, _ = clients[k % len(clients)].call("POST", "/api/jobs/batch", body)
                if status == 201:
                    load_count[0] += per_tick
            except (OSError, http.client.HTTPException):
                pass
            k += 1
            next_at += tick_s
            time.sleep(max(0.0, next_at - time.monotonic()))

    bg = None
    if args.load_rate > 0:
        bg = threading.Thread(target=background, daemon=True)
        bg.start()
        time.sleep(2.0)  # let the load reach a steady state
    t_load0 = time.monotonic()
    load0 = load_count[0]
    clients = [Client(u, timeout=30) for u in urls]
    sampled = {"now": [], "delayed": []}
    for i in range(args.samples):
        if time.monotonic() > deadline:
            break
        for kind in ("now", "delayed"):
            job = {"name": f"lag-{kind}-{i}", "task": {"kind": "noop"}}
            if kind == "delayed":
                job["delay_seconds"] = 1
            status, body = clients[i % len(clients)].call("POST", "/api/jobs", job)
            if status == 201:
                sampled[kind].append(body["id"])
        time.sleep(args.interval_s)
    load_rate = (load_count[0] - load0) / max(1e-9, time.monotonic() - t_load0)
    stop.set()
    if bg:
        bg.join(5)
    wait_all_finished(c, deadline)
    result = {"phase": "lag", "load_rate_target": args.load_rate, "load_rate_achieved": round(load_rate, 1),
              "load_tick_ms": args.load_tick_ms, "label": args.label}
    client = Client(urls[0])
    for kind, ids in sampled.items():
        lags = []
        for job in ids:
            status, body = client.call("GET", f"/api/jobs/{job}/runs")
            if status != 200 or not body["items"]:
                continue
            first = min(body["items"], key=lambda r: r["attempt"])
            if first.get("started_at") and first.get("scheduled_at"):
                lags.append((parse_ts(first["started_at"]) - parse_ts(first["scheduled_at"])) * 1000)
        result[kind] = {"n": len(lags), "p50_ms": round(percentile(lags, 50), 1),
                        "p99_ms": round(percentile(lags, 99), 1), "max_ms": round(max(lags), 1) if lags else None}
    emit(args, result)


# ---------------------------------------------------------------- reads

# READ_PATH overrides it, e.g. a disjoint pair (a:b1&a:b2: no job has both, so every page walks
# all 10,000 jobs of a:b1) to make each read a long scan.
READ_PATH = os.environ.get("READ_PATH", "/api/jobs?label=a:b3&label=x:y5&limit=50")


def reader_loop(url, stop_at, counter, nice=0):
    """One reader process: the two-label query in a loop until stop_at (time.time()). With
    nice > 0 the process lowers its own CPU priority first (READER_NICE: models readers on
    other machines, whose JSON parsing does not take the nodes' and the writer's CPU)."""
    if nice > 0:
        os.nice(nice)
    client = Client(url, timeout=60)
    n = 0
    while time.time() < stop_at:
        try:
            status, _ = client.call("GET", READ_PATH)
            if status == 200:
                n += 1
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
    with counter.get_lock():
        counter.value += n


def cpu_seconds(pid):
    """utime + stime of `pid` (all its threads) in seconds, or 0.0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def node_cpu(d):
    """Each node's CPU seconds so far."""
    return {n: cpu_seconds(node_pid(d, n)) for n in NODE_IDS}


def timed_writes(url, seconds, tag):
    """Sequential single-job POSTs on one keep-alive connection: latencies in ms."""
    client = Client(url, timeout=60)
    latencies, end, k = [], time.monotonic() + seconds, 0
    while time.monotonic() < end:
        body = {"name": f"w-{tag}-{k}", "task": {"kind": "noop"}, "delay_seconds": 86400,
                "labels": {"a": f"b{k % 10}", "x": f"y{k % 7}"}}
        t0 = time.monotonic()
        status, _ = client.call("POST", "/api/jobs", body)
        if status == 201:
            latencies.append((time.monotonic() - t0) * 1000)
        k += 1
    return latencies


def cmd_reads(args):
    import multiprocessing
    d = os.path.abspath(args.dir)
    c = load_cluster(d)
    leader, _ = wait_leader(c, 30)
    url = c["api"][leader]
    client = Client(url, timeout=120)
    t0 = time.monotonic()
    for start in range(0, args.jobs, args.batch):
        jobs = [{"name": f"l-{i}", "task": {"kind": "noop"}, "delay_seconds": 86400,
                 "labels": {"a": f"b{i % 10}", "x": f"y{i % 7}"}} for i in range(start, min(args.jobs, start + args.batch))]
        for _ in range(20):
            status, _ = client.call("POST", "/api/jobs/batch", {"jobs": jobs})
            if status == 201:
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"loading failed at job {start}: HTTP {status}")
    log(f"loaded {args.jobs} labelled pending jobs in {time.monotonic() - t0:.1f} s")
    status, page = client.call("GET", READ_PATH)
    log(f"the two-label page: HTTP {status}, {len(page['items']) if page else 0} items")
    result = {"phase": "reads", "label": args.label, "jobs": args.jobs, "readers": args.readers, "seconds": args.seconds,
              "readers_on": args.readers_on, "reader_nice": args.reader_nice}
    cpu0, t0 = node_cpu(d), time.monotonic()
    quiet = timed_writes(url, args.seconds, "quiet")
    cpu1, t1 = node_cpu(d), time.monotonic()
    counter = multiprocessing.Value("l", 0)
    stop_at = time.time() + args.seconds + 2
    read_url = url if args.readers_on == "leader" else next(u for n, u in c["api"].items() if n != leader)
    readers = [multiprocessing.Process(target=reader_loop, args=(read_url, stop_at, counter, args.reader_nice))
               for _ in range(args.readers)]
    for r in readers:
        r.start()
    time.sleep(1.0)  # let the readers reach a steady state
    cpu2, t2 = node_cpu(d), time.monotonic()
    loaded = timed_writes(url, args.seconds, "read")
    cpu3, t3 = node_cpu(d), time.monotonic()
    for r in readers:
        r.join(30)
    for name, lat in (("without_readers", quiet), ("with_readers", loaded)):
        result[name] = {"writes": len(lat), "p50_ms": round(percentile(lat, 50), 2), "p99_ms": round(percentile(lat, 99), 2)}
    result["reads_per_s"] = round(counter.value / (args.seconds + 1), 1)
    # CPU of each node per second of each phase (cores busy): what the reads cost the nodes,
    # less disturbed by other load on the machine than the latencies.
    result["leader"] = leader
    result["node_cpu_per_s"] = {
        "without_readers": {n: round((cpu1[n] - cpu0[n]) / (t1 - t0), 3) for n in NODE_IDS},
        "with_readers": {n: round((cpu3[n] - cpu2[n]) / (t3 - t2), 3) for n in NODE_IDS},
    }
    emit(args, result)


# ---------------------------------------------------------------- failover

def first_write_after_kill(url, pid, interval, attempt_timeout, max_s, tag):
    """SIGKILLs pid, then starts a POST every `interval` s on `url` (each on its own connection
    and thread); returns (ms from the kill to the first 201 answer, attempts)."""
    done = threading.Event()
    result = {}
    lock = threading.Lock()
    slots = threading.BoundedSemaphore(300)

    def attempt(i, t0):
        try:
            status, _ = request(url, "POST", "/api/jobs", {"name": f"failover-{tag}-{i}", "task": {"kind": "noop"}},
                                timeout=attempt_timeout)
            if status == 201:
                now = time.perf_counter()
                with lock:
                    if not done.is_set():
                        result["ms"] = (now - t0) * 1000
                        done.set()
        except (OSError, http.client.HTTPException):
            pass
        finally:
            slots.release()

    t0 = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    i = 0
    while not done.is_set() and time.perf_counter() < t0 + max_s:
        i += 1
        if slots.acquire(timeout=interval):
            threading.Thread(target=attempt, args=(i, t0), daemon=True).start()
        done.wait(max(0.0, t0 + i * interval - time.perf_counter()))
    return result.get("ms"), i


def caught_up(c, node, leader):
    """The restarted node is ready (knows a leader, applied all it knows committed) and has the
    leader's commit index."""
    try:
        status, _ = request(c["api"][node], path="/readyz", timeout=1)
        if status != 200:
            return False
        _, mine = request(c["api"][node], path="/api/cluster", timeout=1)
        _, theirs = request(c["api"][leader], path="/api/cluster", timeout=1)
        return mine["commit_index"] >= theirs["commit_index"] - 2
    except (OSError, http.client.HTTPException, TypeError, KeyError):
        return False


def cmd_failover(args):
    d = os.path.abspath(args.dir)
    c = load_cluster(d)
    samples, rows = [], []
    for k in range(1, args.kills + 1):
        leader, term0 = wait_leader(c, 30)
        pid = node_pid(d, leader)
        if not is_our_node(d, leader, pid):
            raise SystemExit(f"leader {leader} pid {pid} is not a node this benchmark started")
        survivor = next(n for n in NODE_IDS if n != leader)
        ms, attempts = first_write_after_kill(c["api"][survivor], pid, args.interval_s, args.attempt_timeout_s,
                                              args.max_s, f"{k}")
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # not our child (started by an earlier invocation): init reaps it
        new_leader, term1 = wait_leader(c, 30, exclude=leader)
        t_restart = time.monotonic()
        start_node(d, c, leader)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not caught_up(c, leader, new_leader):
            time.sleep(0.05)
        catch_up_s = time.monotonic() - t_restart
        row = {"kill": k, "killed": leader, "written_via": survivor, "ms": None if ms is None else round(ms, 1),
               "attempts": attempts, "new_leader": new_leader, "term_before": term0, "term_after": term1,
               "catch_up_s": round(catch_up_s, 2)}
        rows.append(row)
        log(f"failover {k}/{args.kills}: {json.dumps(row)}")
        if ms is not None:
            samples.append(ms)
        time.sleep(args.settle_s)
    result = {"phase": "failover", "kills": args.kills, "ok": len(samples),
              "median_ms": round(statistics.median(samples), 1) if samples else None,
              "p99_ms": round(percentile(samples, 99), 1), "max_ms": round(max(samples), 1) if samples else None,
              "min_ms": round(min(samples), 1) if samples else None,
              "all_ms": [r["ms"] for r in rows],
              "catch_up_s_median": round(statistics.median(r["catch_up_s"] for r in rows), 2) if rows else None}
    emit(args, result)


# ---------------------------------------------------------------- rejoin

def executor_busy(url):
    """quorum_executor_busy on one node's /metrics (None if unreadable)."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=2) as response:
            for line in response.read().decode().splitlines():
                if line.startswith("quorum_executor_busy"):
                    return float(line.split()[-1])
    except (OSError, ValueError, http.client.HTTPException):
        return None
    return None


def cmd_rejoin(args):
    d = os.path.abspath(args.dir)
    c = load_cluster(d)
    stop = threading.Event()
    job = {"name": "rejoin", "task": {"kind": "sleep", "seconds": args.task_s}}

    def load():
        period = 0.05
        per_tick = max(1, round(args.rate * period))
        while not stop.is_set():
            began = time.monotonic()
            for url in c["api"].values():
                try:
                    status, _ = request(url, "POST", "/api/jobs/batch", {"jobs": [job] * per_tick}, timeout=5)
                    if status == 201:
                        break
                except (OSError, http.client.HTTPException):
                    continue
            stop.wait(max(0.0, period - (time.monotonic() - began)))

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    samples, rows = [], []
    try:
        time.sleep(2)
        for k in range(1, args.kills + 1):
            leader, _ = wait_leader(c, 30)
            node = [n for n in NODE_IDS if n != leader][k % 2]
            pid = node_pid(d, node)
            if not is_our_node(d, node, pid):
                raise SystemExit(f"{node} pid {pid} is not a node this benchmark started")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (executor_busy(c["api"][node]) or 0) > 0:
                time.sleep(0.01)
            os.kill(pid, signal.SIGKILL)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            while is_our_node(d, node, pid):
                time.sleep(0.005)
            started = time.monotonic()
            start_node(d, c, node)
            busy_ms = None
            deadline = started + args.max_s
            while time.monotonic() < deadline:
                if (executor_busy(c["api"][node]) or 0) > 0:
                    busy_ms = (time.monotonic() - started) * 1000
                    break
                time.sleep(0.01)
            row = {"kill": k, "node": node, "leader": leader, "first_busy_ms": None if busy_ms is None else round(busy_ms)}
            rows.append(row)
            log(f"rejoin {k}/{args.kills}: {json.dumps(row)}")
            if busy_ms is not None:
                samples.append(busy_ms)
            time.sleep(args.settle_s)
    finally:
        stop.set()
        loader.join(timeout=10)
    result = {"phase": "rejoin", "kills": args.kills, "ok": len(samples),
              "median_ms": round(statistics.median(samples)) if samples else None,
              "max_ms": round(max(samples)) if samples else None, "all_ms": [r["first_busy_ms"] for r in rows]}
    emit(args, result)


# ---------------------------------------------------------------- memory

def rss_mib(pid):
    """Resident size of `pid` in MiB (second field of /proc/PID/statm, in pages), or None."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


class RSSSampler:
    """Samples the resident size of the given pids every `interval_s` on its own thread; keeps
    the peak per pid of the current window (`reset` starts a new one) and the latest value."""

    def __init__(self, pids, interval_s):
        self.pids, self.interval_s = pids, interval_s
        self.lock = threading.Lock()
        self.peak = {n: 0.0 for n in pids}
        self.latest = {n: 0.0 for n in pids}
        self.samples = 0
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_flag.is_set():
            for node, pid in self.pids.items():
                value = rss_mib(pid)
                if value is not None:
                    with self.lock:
                        self.latest[node] = value
                        self.peak[node] = max(self.peak[node], value)
            with self.lock:
                self.samples += 1
            self.stop_flag.wait(self.interval_s)

    def reset(self):
        with self.lock:
            self.peak = dict(self.latest)
            self.samples = 0

    def read(self):
        with self.lock:
            return dict(self.peak), dict(self.latest), self.samples

    def stop(self):
        self.stop_flag.set()
        self.thread.join()


def snapshot_files(d, node):
    """The names of the snapshot files in `node`'s data directory."""
    found = set()
    for root, _, files in os.walk(os.path.join(d, "data", node)):
        found.update(f for f in files if f.startswith("snapshot-") and f.endswith(".snap"))
    return found


def load_pending(c, url, jobs, batch, conns, deadline):
    """Loads `jobs` pending jobs (noop, delayed a day) in batches over `conns` connections."""
    starts = iter(range(0, jobs, batch))
    lock = threading.Lock()
    failures = []

    def worker():
        client = Client(url, timeout=120)
        while time.monotonic() < deadline:
            with lock:
                start = next(starts, None)
            if start is None:
                return
            body = {"jobs": [{"name": f"m-{i}", "task": {"kind": "noop"}, "delay_seconds": 86400}
                             for i in range(start, min(jobs, start + batch))]}
            for _ in range(50):
                status, _ = client.call("POST", "/api/jobs/batch", body)
                if status == 201:
                    break
                time.sleep(0.2)
            else:
                with lock:
                    failures.append((start, status))
                return

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"loading failed: {failures[:3]}")


def cmd_load(args):
    """Loads --jobs pending jobs (delayed a day) through the leader, then waits until every node
    has caught up with the leader's commit index (so what follows does not measure the load)."""
    d = os.path.abspath(args.dir)
    c = load_cluster(d)
    leader, _ = wait_leader(c, 30)
    t0 = time.monotonic()
    load_pending(c, c["api"][leader], args.jobs, args.batch, args.conns, t0 + args.max_s)
    deadline = time.monotonic() + args.max_s
    while not all(caught_up(c, n, leader) for n in NODE_IDS):
        if time.monotonic() > deadline:
            raise SystemExit(f"the nodes did not catch up within {args.max_s} s of loading")
        time.sleep(0.2)
    log(f"loaded {args.jobs} pending jobs in {time.monotonic() - t0:.1f} s; every node caught up")


def cmd_memory(args):
    d = os.path.abspath(args.dir)
    c = load_cluster(d)
    leader, _ = wait_leader(c, 30)
    url = c["api"][leader]
    pids = {n: node_pid(d, n) for n in NODE_IDS}
    sampler = RSSSampler(pids, args.sample_ms / 1000)
    t0 = time.monotonic()
    load_pending(c, url, args.jobs, args.batch, args.conns, t0 + args.max_s)
    loaded_s = time.monotonic() - t0
    load_peak, _, _ = sampler.read()
    log(f"loaded {args.jobs} pending jobs in {loaded_s:.1f} s; peak RSS while loading "
        + " ".join(f"{n}={v:.0f}" for n, v in load_peak.items()) + " MiB")
    # Idle: nothing submitted; wait until the nodes' snapshot files stop changing, then sample.
    quiet_since, files = time.monotonic(), {n: snapshot_files(d, n) for n in NODE_IDS}
    while time.monotonic() - quiet_since < args.settle_s and time.monotonic() < t0 + args.max_s:
        time.sleep(0.5)
        now = {n: snapshot_files(d, n) for n in NODE_IDS}
        if now != files:
            files, quiet_since = now, time.monotonic()
    sampler.reset()
    time.sleep(args.idle_s)
    idle_peak, idle_latest, idle_samples = sampler.read()
    log("idle RSS " + " ".join(f"{n}={v:.0f}" for n, v in idle_latest.items()) + " MiB")
    # A snapshot of the full state on every node: single submissions until each wrote a new file.
    sampler.reset()
    before = {n: snapshot_files(d, n) for n in NODE_IDS}
    started, stop, counts = time.monotonic(), threading.Event(), []

    def submitter(k):
        client, sent = Client(url, timeout=30), 0
        while not stop.is_set():
            client.call("POST", "/api/jobs/batch",
                        {"jobs": [{"name": f"s-{k}-{sent}-{j}", "task": {"kind": "noop"}, "delay_seconds": 86400}
                                  for j in range(4)]})
            sent += 4
        counts.append(sent)

    threads = [threading.Thread(target=submitter, args=(k,)) for k in range(args.conns * 4)]
    for t in threads:
        t.start()
    while time.monotonic() < t0 + args.max_s:
        if all(snapshot_files(d, n) - before[n] for n in NODE_IDS):
            break
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    extra = sum(counts)
    if not all(snapshot_files(d, n) - before[n] for n in NODE_IDS):
        raise SystemExit("not every node wrote a snapshot before --max-s")
    time.sleep(args.idle_s)  # the encoding and the write end after the file appears
    snap_peak, snap_latest, snap_samples = sampler.read()
    sampler.stop()
    result = {"phase": "memory", "label": args.label, "jobs": args.jobs + extra, "load_s": round(loaded_s, 1),
              "sample_ms": args.sample_ms, "leader": leader,
              "rss_mib_peak_while_loading": {n: round(v) for n, v in load_peak.items()},
              "rss_mib_idle": {n: round(v) for n, v in idle_latest.items()},
              "rss_mib_idle_peak": {n: round(v) for n, v in idle_peak.items()},
              "rss_mib_peak_during_snapshot": {n: round(v) for n, v in snap_peak.items()},
              "rss_mib_after_snapshot": {n: round(v) for n, v in snap_latest.items()},
              "snapshot_phase_s": round(time.monotonic() - started, 1), "snapshot_phase_samples": snap_samples,
              "snapshot_files": {n: sorted(snapshot_files(d, n)) for n in NODE_IDS}}
    if args.restart:
        result.update(restart_peak(d, c, leader, args))
    emit(args, result)


def restart_peak(d, c, leader, args):
    """Stops a follower (SIGTERM), starts it again and samples its RSS from the start until it
    has caught up with the leader and `idle_s` more: the peak while it restores the snapshot of
    the whole state and replays the log after it."""
    node = next(n for n in NODE_IDS if n != leader)
    stop_pid(d, node, node_pid(d, node), 30)
    t0 = time.monotonic()
    proc = start_node(d, c, node)
    sampler = RSSSampler({node: proc.pid}, args.sample_ms / 1000)
    deadline = t0 + args.max_s
    while time.monotonic() < deadline and not caught_up(c, node, leader):
        time.sleep(0.1)
    restored_s = time.monotonic() - t0
    time.sleep(args.idle_s)
    peak, latest, samples = sampler.read()
    sampler.stop()
    # The same moment on every node, with the kernel's split of each one's memory: the restored
    # node set against the ones that built their state by applies.
    now = {n: node_pid(d, n) for n in NODE_IDS}
    now[node] = proc.pid
    settled = {n: rss_mib(pid) for n, pid in now.items()}
    rollup = {n: smaps_rollup_mib(pid) for n, pid in now.items()}
    log(f"restarted {node}: caught up in {restored_s:.1f} s; peak RSS {peak[node]:.0f} MiB, then {latest[node]:.0f} MiB; "
        + "now " + " ".join(f"{n}={v:.0f}" for n, v in settled.items() if v is not None) + " MiB")
    for n, fields in rollup.items():
        log(f"  {n} smaps_rollup: " + " ".join(f"{k}={v:.0f}" for k, v in fields.items()) + " MiB")
    return {"restarted": node, "restore_s": round(restored_s, 1),
            "rss_mib_peak_restart": round(peak[node]), "rss_mib_after_restart": round(latest[node]),
            "rss_mib_all_after_restart": {n: round(v) for n, v in settled.items() if v is not None},
            "smaps_rollup_mib_after_restart": rollup, "restart_samples": samples}


def smaps_rollup_mib(pid):
    """The resident kinds of /proc/PID/smaps_rollup in MiB (Rss, Anonymous, Private_Dirty, …), or {}."""
    fields = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB" and parts[0].rstrip(":") in (
                        "Rss", "Anonymous", "Private_Dirty", "Private_Clean", "Shared_Clean", "Swap"):
                    fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    except (OSError, ValueError):
        pass
    return fields


def cmd_retention(args):
    d = os.path.abspath(args.dir)
    c = load_cluster(d)
    leader, _ = wait_leader(c, 30)
    url = c["api"][leader]
    pids = {n: node_pid(d, n) for n in NODE_IDS}
    client = Client(url, timeout=30)
    t0 = time.monotonic()
    end = t0 + args.minutes * 60
    per_tick = max(1, round(args.rate / 10))
    ticks, rows, minute, errors = 0, [], 0, 0
    log(f"submitting {args.rate} jobs/s (batches of {per_tick} every 0.1 s), retention {args.retention_s} s, "
        f"for {args.minutes} min")
    while time.monotonic() < end:
        body = {"jobs": [{"name": f"r-{ticks}-{j}", "task": {"kind": "noop"}, "retention_seconds": args.retention_s}
                         for j in range(per_tick)]}
        status, _ = client.call("POST", "/api/jobs/batch", body)
        if status != 201:
            errors += 1
        ticks += 1
        next_at = t0 + ticks * 0.1
        if time.monotonic() >= t0 + (minute + 1) * args.sample_every_s:
            minute += 1
            rss = {n: round(rss_mib(p) or 0) for n, p in pids.items()}
            row = {"t_s": round(time.monotonic() - t0), "submitted": ticks * per_tick, "rss_mib": rss}
            rows.append(row)
            log(json.dumps(row))
        time.sleep(max(0.0, next_at - time.monotonic()))
    emit(args, {"phase": "retention", "label": args.label, "rate": args.rate, "retention_s": args.retention_s,
                "minutes": args.minutes, "errors": errors, "rows": rows})


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("up")
    p.add_argument("--dir", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--slots", type=int, default=4)
    p.add_argument("--prefetch", type=int, default=0,
                   help="[executor] prefetch (0: the key is left out, so builds before it run too)")
    p.add_argument("--heartbeat-ms", type=int, default=50)
    p.add_argument("--election-min-ms", type=int, default=300)
    p.add_argument("--election-max-ms", type=int, default=600)
    p.add_argument("--max-pending-jobs", type=int, default=None,
                   help="[quotas] max_pending_jobs (default: the node's, 1,000,000); the memory benchmark loads more")
    p = sub.add_parser("load")
    p.add_argument("--dir", required=True)
    p.add_argument("--jobs", type=int, required=True)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--max-s", type=float, default=600)
    p = sub.add_parser("down")
    p.add_argument("--dir", required=True)
    p.add_argument("--grace", type=float, default=10)
    for name in ("leader", "terms"):
        sub.add_parser(name).add_argument("--dir", required=True)
    p = sub.add_parser("drain")
    p.add_argument("--dir", required=True)
    p.add_argument("--jobs", type=int, default=20000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--slots", type=int, default=4, help="the cluster's slots per node (recorded only)")
    p.add_argument("--max-s", type=float, default=300)
    p.add_argument("--poll", choices=["list", "metrics"], default="list",
                   help="completion check: three job-list queries (default, as before) or the succeeded counter on /metrics")
    p.add_argument("--results")
    p = sub.add_parser("lag")
    p.add_argument("--dir", required=True)
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--interval-s", type=float, default=0.05)
    p.add_argument("--load-rate", type=float, default=0)
    p.add_argument("--load-tick-ms", type=float, default=100,
                   help="the background load arrives as one batch every this many ms (100: bursts; 10: spread out)")
    p.add_argument("--label", default="idle")
    p.add_argument("--max-s", type=float, default=120)
    p.add_argument("--results")
    p = sub.add_parser("reads")
    p.add_argument("--dir", required=True)
    p.add_argument("--jobs", type=int, default=100000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--readers", type=int, default=4)
    p.add_argument("--reader-nice", type=int, default=0,
                   help="nice value the reader processes run at (0: as the writer; 19: as if on other machines)")
    p.add_argument("--readers-on", choices=["leader", "follower"], default="leader",
                   help="where the readers send their queries (the writer always writes on the leader)")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--label", default="")
    p.add_argument("--results")
    p = sub.add_parser("failover")
    p.add_argument("--dir", required=True)
    p.add_argument("--kills", type=int, default=30)
    p.add_argument("--interval-s", type=float, default=0.010)
    p.add_argument("--attempt-timeout-s", type=float, default=3.0)
    p.add_argument("--max-s", type=float, default=30)
    p.add_argument("--settle-s", type=float, default=6.0,
                   help="pause after the restarted node caught up: over 5 s lets peers' redial backoff reset")
    p.add_argument("--results")
    p = sub.add_parser("memory")
    p.add_argument("--dir", required=True)
    p.add_argument("--jobs", type=int, default=1000000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--sample-ms", type=float, default=20)
    p.add_argument("--settle-s", type=float, default=10, help="no new snapshot file for this long before the idle sample")
    p.add_argument("--idle-s", type=float, default=5)
    p.add_argument("--max-s", type=float, default=3600)
    p.add_argument("--restart", type=int, default=1,
                   help="1: then restart a follower and sample its RSS while it restores (0: skip)")
    p.add_argument("--label", default="")
    p.add_argument("--results")
    p = sub.add_parser("retention")
    p.add_argument("--dir", required=True)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--retention-s", type=int, default=60)
    p.add_argument("--minutes", type=float, default=12)
    p.add_argument("--sample-every-s", type=float, default=60)
    p.add_argument("--label", default="")
    p.add_argument("--results")
    p = sub.add_parser("rejoin")
    p.add_argument("--dir", required=True)
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--rate", type=float, default=40, help="sleep jobs submitted per second")
    p.add_argument("--task-s", type=float, default=0.5, help="each job's sleep")
    p.add_argument("--max-s", type=float, default=60, help="give up on one rejoin after this long")
    p.add_argument("--settle-s", type=float, default=3)
    p.add_argument("--label", default="")
    p.add_argument("--results")
    args = ap.parse_args()
    {"rejoin": cmd_rejoin, "up": cmd_up, "down": cmd_down, "leader": cmd_leader, "terms": cmd_terms, "drain": cmd_drain,
     "lag": cmd_lag, "reads": cmd_reads, "failover": cmd_failover, "memory": cmd_memory,
     "retention": cmd_retention, "load": cmd_load}[args.cmd](args)


if __name__ == "__main__":
    main()
