#!/usr/bin/env python3
"""The monitoring check behind scripts/check-monitoring.sh (standard library and PyYAML).

Checks that cluster/prometheus.yml, cluster/alerts.yml and cluster/grafana/quorum.json work
against a live cluster:

  1. `promtool check config` and `promtool check rules` pass on the files as committed;
  2. a 3-node cluster of debug `quorum node` processes starts (free loopback ports, a temp dir,
     no tokens, peer TLS), and `promtool check metrics` reports nothing on every node's /metrics;
  3. Prometheus starts on a free port with a generated copy of the config: the same scrape job
     and rules, the targets of this cluster, scrape and evaluation every 1 s, and every alert's
     `for:` shortened to 1 s (a test cannot wait the production durations; the expressions are
     the committed ones, unchanged);
  4. every expression of the dashboard and of the alerts uses only metric names a node exports
     (or Prometheus' own `up`), every alert expression parses and is empty on the healthy idle
     cluster;
  5. under load (noop, shell and sleep jobs at several priorities, one failing job that goes to
     the dead-letter queue, requests answered 404), every dashboard expression returns a number
     (not only NaN) —
     Grafana's `$__rate_interval` is replaced by 20s and `$cluster` by `.*` — QuorumDLQGrowing
     fires (the load dead-lettered a run) and the other alerts stay empty;
  6. after SIGKILL of the leader and one follower, QuorumNoLeader and QuorumAtRisk are firing
     within 2 minutes.

Every wait polls a condition with a deadline. Only the processes this script started are
stopped, by PID. KEEP=1 keeps the temp directory (logs, configs).
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE_IDS = ["n1", "n2", "n3"]
# Dashboard expressions that may have no data on a loaded healthy cluster, with why. Empty: the
# load produces data for every panel (404s for the HTTP error panels, a dead run for the DLQ).
NO_DATA_ALLOWED = {}
# Names in expressions that are not Quorum's: Prometheus' own series.
PROMETHEUS_NAMES = {"up"}


def log(msg):
    print(f"[monitoring {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class CheckFailed(Exception):
    pass


def fail(msg):
    raise CheckFailed(msg)


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def http(url, method="GET", body=None, timeout=5.0):
    """(status, bytes) of one request; (None, b"") when the server does not answer."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return None, b""


def wait_for(what, deadline_s, probe, poll=0.25):
    """Polls probe() until it returns a truthy value, at most deadline_s seconds; returns it."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            fail(f"timed out after {deadline_s:.0f} s waiting for {what}")
        time.sleep(poll)


class Cluster:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.dir = workdir
        ports = free_ports(6)
        self.raft = dict(zip(NODE_IDS, ports[0::2]))
        self.api = dict(zip(NODE_IDS, ports[1::2]))
        self.procs = {}

    def url(self, node):
        return f"http://127.0.0.1:{self.api[node]}"

    def start(self):
        nodes = "".join(f'\n[[nodes]]\nid = "{n}"\nraft = "127.0.0.1:{self.raft[n]}"\napi = "127.0.0.1:{self.api[n]}"\n'
                        for n in NODE_IDS)
        with open(os.path.join(self.dir, "c.toml"), "w") as f:
            f.write(f'''[cluster]
name = "monitoring-check"
data_dir = "data/{{id}}"

[raft]
heartbeat_ms = 50
election_timeout_ms = [300, 600]

[tls]
ca = "certs/ca.pem"
cert = "certs/{{id}}.pem"
key = "certs/{{id}}.key"

[executor]
slots = 4
allow_shell = true
shell_allow = ["/bin/*", "/usr/bin/*"]
{nodes}''')
        subprocess.run([self.binary, "certs", "init", "--config", "c.toml", "--out", "certs"], cwd=self.dir,
                       check=True, stdout=subprocess.DEVNULL)
        for n in NODE_IDS:
            out = open(os.path.join(self.dir, f"{n}.log"), "w")
            self.procs[n] = subprocess.Popen([self.binary, "node", "--config", "c.toml", "--id", n], cwd=self.dir,
                                             stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            log(f"started {n} (pid {self.procs[n].pid}), API {self.url(n)}")
        return wait_for("a leader", 60, self.leader)

    def leader(self, among=None):
        for n in among or NODE_IDS:
            status, raw = http(self.url(n) + "/api/cluster", timeout=1)
            if status == 200:
                leader = json.loads(raw).get("leader")
                if leader:
                    return leader
        return None

    def kill(self, node):
        proc = self.procs[node]
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_all(self):
        for n in list(self.procs):
            self.kill(n)


class Prometheus:
    def __init__(self, workdir):
        self.dir = workdir
        self.port = free_ports(1)[0]
        self.proc = None

    def start(self, targets):
        with open(os.path.join(ROOT, "cluster", "prometheus.yml")) as f:
            config = yaml.safe_load(f)
        with open(os.path.join(ROOT, "cluster", "alerts.yml")) as f:
            rules = yaml.safe_load(f)
        for group in rules["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = "1s"
        with open(os.path.join(self.dir, "alerts.yml"), "w") as f:
            yaml.safe_dump(rules, f, sort_keys=False)
        with open(os.path.join(self.dir, "targets.json"), "w") as f:
            json.dump([{"targets": targets, "labels": {"cluster": "monitoring-check"}}], f)
        config["global"]["scrape_interval"] = "1s"
        config["global"]["scrape_timeout"] = "1s"
        config["global"]["evaluation_interval"] = "1s"
        config["rule_files"] = ["alerts.yml"]
        [job] = [j for j in config["scrape_configs"] if j["job_name"] == "quorum"]
        job["file_sd_configs"] = [{"files": ["targets.json"], "refresh_interval": "1s"}]
        path = os.path.join(self.dir, "prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f, sort_keys=False)
        run(["promtool", "check", "config", path])
        out = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(["prometheus", f"--config.file={path}",
                                      f"--storage.tsdb.path={os.path.join(self.dir, 'tsdb')}",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     cwd=self.dir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log(f"started prometheus (pid {self.proc.pid}) on 127.0.0.1:{self.port}")

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, raw = http(url)
        try:
            return json.loads(raw) if status is not None else None
        except ValueError:
            return None  # not ready yet: Prometheus answers 503 in plain text while it starts

    def query(self, expr):
        """The instant query's result list; fails the check when Prometheus refuses the expression."""
        answer = self.api("query", query=expr)
        if answer is None:
            fail("prometheus does not answer")
        if answer.get("status") != "success":
            fail(f"prometheus refused {expr!r}: {answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]["result"]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def run(argv, stdin=None):
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        fail(f"{' '.join(argv)} failed (exit {result.returncode}):\n{output}")
    return output


def dashboard_expressions():
    with open(os.path.join(ROOT, "cluster", "grafana", "quorum.json")) as f:
        dashboard = json.load(f)
    exprs = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            exprs.append((f"{panel['title']} [{target['refId']}]", target["expr"]))
    return exprs


def alert_rules():
    with open(os.path.join(ROOT, "cluster", "alerts.yml")) as f:
        rules = yaml.safe_load(f)
    return [(r["alert"], r["expr"]) for g in rules["groups"] for r in g["rules"] if "alert" in r]


def for_prometheus(expr):
    """A Grafana panel expression with the dashboard's variables filled in."""
    return expr.replace("$__rate_interval", "20s").replace("$cluster", ".*")


def metric_names(expr):
    """Metric names an expression uses (label names and values and functions excluded)."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_matchers = re.sub(r"\{[^}]*\}", "{}", without_strings)
    names = set(re.findall(r"\b(quorum_[a-z0-9_]+|up)\b", without_matchers))
    return names


def exported_names(metrics_text):
    names = set()
    for line in metrics_text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            name, kind = m.groups()
            names.add(name)
            if kind == "histogram":
                names.update({name + "_bucket", name + "_sum", name + "_count"})
    return names


class Load(threading.Thread):
    """Submits a job every 0.2 s (noop, shell, sleep; priorities 0, 1, 5) and asks for a
    missing job (404) until stopped."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.stopped = threading.Event()
        self.submitted = 0

    def run(self):
        tasks = [{"kind": "noop"}, {"kind": "shell", "command": ["/bin/echo", "hi"]}, {"kind": "sleep", "seconds": 0.5}]
        i = 0
        while not self.stopped.is_set():
            body = {"name": f"load-{i}", "priority": [0, 1, 5][i % 3], "task": tasks[i % 3]}
            status, _ = http(self.url + "/api/jobs", "POST", body)
            if status == 201:
                self.submitted += 1
            http(self.url + "/api/jobs/no-such-job")
            i += 1
            self.stopped.wait(0.2)


def main():
    binary = os.environ.get("QUORUM_BIN", os.path.join(ROOT, ".build", "debug", "quorum"))
    if not os.access(binary, os.X_OK):
        log(f"no quorum binary at {binary} (run swift build first)")
        return 2
    started = time.monotonic()
    log("promtool check config / check rules on the committed files")
    with tempfile.TemporaryDirectory() as sd:
        # The committed config reads data/prometheus-targets.json, which scripts/cluster-up.sh
        # writes; a copy next to an empty targets file checks it without a running cluster.
        os.makedirs(os.path.join(sd, "cluster"))
        os.makedirs(os.path.join(sd, "data"))
        for name in ("prometheus.yml", "alerts.yml"):
            with open(os.path.join(ROOT, "cluster", name)) as src, open(os.path.join(sd, "cluster", name), "w") as dst:
                dst.write(src.read())
        with open(os.path.join(sd, "data", "prometheus-targets.json"), "w") as f:
            f.write("[]\n")
        run(["promtool", "check", "config", os.path.join(sd, "cluster", "prometheus.yml")])
    run(["promtool", "check", "rules", os.path.join(ROOT, "cluster", "alerts.yml")])

    workdir = tempfile.mkdtemp(prefix="quorum-monitoring.")
    cluster = Cluster(binary, workdir)
    prometheus = Prometheus(workdir)
    load = None
    ok = False
    try:
        leader = cluster.start()
        log(f"leader {leader}")

        log("promtool check metrics on every node's /metrics")
        exported = set()
        for n in NODE_IDS:
            status, raw = http(cluster.url(n) + "/metrics")
            if status != 200:
                fail(f"GET /metrics on {n} answered {status}")
            text = raw.decode()
            exported |= exported_names(text)
            problems = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
            report = (problems.stdout + problems.stderr).strip()
            if problems.returncode != 0 or report:
                fail(f"promtool check metrics on {n}'s /metrics reports:\n{report}")

        log("every expression uses exported names only")
        dashboard = dashboard_expressions()
        alerts = alert_rules()
        for where, expr in dashboard + alerts:
            unknown = metric_names(expr) - exported - PROMETHEUS_NAMES
            if unknown:
                fail(f"{where} uses names no node exports: {sorted(unknown)}")

        prometheus.start([f"127.0.0.1:{cluster.api[n]}" for n in NODE_IDS])

        def all_up():
            answer = prometheus.api("query", query='up{job="quorum"} == 1')
            return answer is not None and answer.get("status") == "success" and len(answer["data"]["result"]) == 3

        wait_for("prometheus to scrape all three nodes", 60, all_up)

        def rules_evaluated():
            answer = prometheus.api("rules")
            if not answer or answer.get("status") != "success":
                return False
            rules = [r for g in answer["data"]["groups"] for r in g["rules"]]
            return len(rules) == len(alerts) and all(r.get("health") == "ok" for r in rules)

        wait_for("the alerting rules to be evaluated with health ok", 30, rules_evaluated)

        log("every alert expression is empty on the healthy idle cluster")
        for name, expr in alerts:
            result = prometheus.query(expr)
            if result:
                fail(f"alert {name} has data on a healthy idle cluster: {result}")

        log("loading the cluster (jobs at three priorities, 404s, one run to the DLQ)")
        load = Load(cluster.url(leader))
        load.start()
        status, raw = http(cluster.url(leader) + "/api/jobs", "POST", {
            "name": "fails-to-dlq", "task": {"kind": "shell", "command": ["/bin/false"]},
            "retry": {"max_attempts": 1}})
        if status != 201:
            fail(f"submitting the failing job answered {status}: {raw[:300]!r}")

        def dlq_has_a_run():
            s, body = http(cluster.url(leader) + "/api/dlq")
            return s == 200 and json.loads(body).get("items")

        wait_for("the failing run in the dead-letter queue", 60, dlq_has_a_run)

        log(f"every dashboard expression returns data ({len(dashboard)} expressions)")
        missing = dict((where, for_prometheus(expr)) for where, expr in dashboard)

        def dashboard_has_data():
            for where in list(missing):
                # A number, not NaN: a quantile over no observations is NaN, which Grafana
                # draws as nothing.
                values = [r["value"][1] for r in prometheus.query(missing[where])]
                if any(v not in ("NaN", "+Inf", "-Inf") for v in values):
                    del missing[where]
            return all(where in NO_DATA_ALLOWED for where in missing)

        try:
            wait_for("data for every dashboard expression", 60, dashboard_has_data, poll=1)
        except CheckFailed:
            fail("dashboard expressions without data on a loaded cluster:\n" +
                 "\n".join(f"  {w}: {e}" for w, e in missing.items()))

        def dlq_growing_fires():
            [expr] = [e for n, e in alerts if n == "QuorumDLQGrowing"]
            return prometheus.query(expr)

        wait_for("QuorumDLQGrowing's expression to have data after a run was dead-lettered", 30, dlq_growing_fires)
        for name, expr in alerts:
            if name != "QuorumDLQGrowing" and prometheus.query(expr):
                fail(f"alert {name} has data on the healthy loaded cluster: {prometheus.query(expr)}")
        load.stopped.set()
        load.join()
        log(f"load submitted {load.submitted} jobs")

        leader = cluster.leader()
        victims = [leader] + [n for n in NODE_IDS if n != leader][:1]
        log(f"SIGKILL {victims} (the leader and one follower): QuorumNoLeader and QuorumAtRisk must fire")
        for n in victims:
            cluster.kill(n)
        stopped_at = time.monotonic()

        def firing():
            answer = prometheus.api("alerts")
            if not answer or answer.get("status") != "success":
                return False
            states = {a["labels"]["alertname"]: a["state"] for a in answer["data"]["alerts"]}
            return states.get("QuorumNoLeader") == "firing" and states.get("QuorumAtRisk") == "firing"

        wait_for("QuorumNoLeader and QuorumAtRisk firing", 120, firing, poll=0.5)
        log(f"both firing {time.monotonic() - stopped_at:.1f} s after the kill")
        ok = True
    except CheckFailed as e:
        log(f"FAILED: {e}")
    finally:
        if load:
            load.stopped.set()
        prometheus.stop()
        cluster.stop_all()
        if ok and os.environ.get("KEEP", "0") != "1":
            subprocess.run(["rm", "-rf", workdir])
        else:
            log(f"kept {workdir} (node logs, prometheus.log, the generated configs)")
    log(f"{'passed' if ok else 'failed'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
