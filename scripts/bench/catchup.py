#!/usr/bin/env python3
"""Catch-up of a follower far behind, under load (issue #10), for scripts/bench-catchup.sh.

Against a cluster started by `cluster_bench.py up --dir DIR` (standard library only):

  1. SIGKILL one follower (a node this benchmark started, checked against its argv);
  2. push --entries single-job submissions through the leader (one Raft entry each; the jobs are
     delayed by a day so nothing runs and the state grows by one pending job per entry), at
     --conns connections;
  3. restart the follower while a load generator keeps --load-rate single submissions per second
     going (round-robin over the two live nodes; a follower forwards to the leader), and time until the
     follower's `quorum_raft_applied_index` (its /metrics) reaches the leader's
     `quorum_raft_commit_index` as read when the follower restarted, and until it reaches the
     leader's current commit index (within --slack entries);
  4. report the write latency (p50/p99/max) and throughput of the load before the restart and
     during the catch-up, and the follower's log lines about the snapshot it installed.

Every loop is bounded by a count and a deadline. The result is one JSON line prefixed RESULT.
"""
import argparse
import http.client
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_bench as cb  # noqa: E402


def metric(url, name):
    """The value of an unlabelled gauge on a node's /metrics, or None."""
    host, port = url.replace("http://", "").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode(errors="replace")
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
    for line in text.splitlines():
        if line.startswith(name + " "):
            try:
                return int(float(line.split()[1]))
            except ValueError:
                return None
    return None


class Load:
    """--rate single submissions per second over `urls`, paced by a schedule (not by answers),
    from `threads` threads; records (send time, latency ms, status) per request."""

    def __init__(self, urls, rate, threads=16):
        self.urls, self.rate, self.threads = urls, rate, threads
        self.samples = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.workers = []

    def start(self):
        t0 = time.monotonic()
        for k in range(self.threads):
            w = threading.Thread(target=self.run, args=(k, t0), daemon=True)
            w.start()
            self.workers.append(w)

    def run(self, k, t0):
        client = cb.Client(self.urls[k % len(self.urls)], timeout=30)
        interval = self.threads / self.rate
        i = 0
        while not self.stop.is_set():
            due = t0 + (k / self.rate) + i * interval
            time.sleep(max(0.0, due - time.monotonic()))
            sent = time.monotonic()
            try:
                status, _ = client.call("POST", "/api/jobs", {"name": f"load-{k}-{i}", "task": {"kind": "noop"},
                                                              "delay_seconds": 86400})
            except (OSError, http.client.HTTPException):
                status = -1
            with self.lock:
                self.samples.append((sent, (time.monotonic() - sent) * 1000, status))
            i += 1

    def window(self, start, end):
        with self.lock:
            rows = [s for s in self.samples if start <= s[0] < end]
        ok = [ms for (_, ms, status) in rows if status == 201]
        span = max(1e-9, end - start)
        return {"requests": len(rows), "ok": len(ok), "errors": len(rows) - len(ok),
                "writes_per_s": round(len(ok) / span, 1),
                "p50_ms": round(cb.percentile(ok, 50), 1), "p99_ms": round(cb.percentile(ok, 99), 1),
                "max_ms": round(max(ok), 1) if ok else None}

    def finish(self):
        self.stop.set()
        for w in self.workers:
            w.join(35)


def push(c, url, entries, conns, deadline):
    """`entries` single submissions to `url` over `conns` connections; returns (ok, seconds)."""
    counter = iter(range(entries))
    lock = threading.Lock()
    ok = [0]

    def worker(_):
        client = cb.Client(url, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            for _ in range(20):  # a 503 during an election is retried, bounded
                try:
                    status, _ = client.call("POST", "/api/jobs", {"name": f"behind-{i}", "task": {"kind": "noop"},
                                                                  "delay_seconds": 86400})
                except (OSError, http.client.HTTPException):
                    status = -1
                if status == 201:
                    with lock:
                        ok[0] += 1
                    break
                time.sleep(0.2)

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(conns)]
    for t in threads:
        t.start()
    last_report = t0
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        if time.monotonic() - last_report > 10:
            last_report = time.monotonic()
            cb.log(f"pushed {ok[0]}/{entries} ({ok[0] / (last_report - t0):.0f}/s)")
    return ok[0], time.monotonic() - t0


def snapshot_lines(d, node):
    path = os.path.join(d, "logs", f"{node}.log")
    try:
        with open(path, errors="replace") as f:
            return [line.strip()[:300] for line in f if "snapshot" in line.lower()][-6:]
    except OSError:
        return []


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--load-rate", type=float, default=1000)
    ap.add_argument("--load-threads", type=int, default=32)
    ap.add_argument("--baseline-s", type=float, default=10, help="load measured before the restart, for comparison")
    ap.add_argument("--slack", type=int, default=50, help="caught up = within this many entries of the commit index")
    ap.add_argument("--max-s", type=float, default=900)
    ap.add_argument("--results")
    args = ap.parse_args()

    d = os.path.abspath(args.dir)
    c = cb.load_cluster(d)
    deadline = time.monotonic() + args.max_s
    leader, term = cb.wait_leader(c, 30)
    follower = next(n for n in cb.NODE_IDS if n != leader)
    pid = cb.node_pid(d, follower)
    if not cb.is_our_node(d, follower, pid):
        raise SystemExit(f"{follower} pid {pid} is not a node this benchmark started")
    applied_at_kill = metric(c["api"][follower], "quorum_raft_applied_index")
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # started by another invocation: init reaps it
    cb.log(f"killed follower {follower} (pid {pid}); leader {leader} term {term}")

    leader_url = c["api"][leader]
    commit0 = metric(leader_url, "quorum_raft_commit_index") or 0
    pushed, push_s = push(c, leader_url, args.entries, args.conns, deadline)
    commit1 = metric(leader_url, "quorum_raft_commit_index") or 0
    cb.log(f"pushed {pushed} entries in {push_s:.1f} s ({pushed / max(push_s, 1e-9):.0f}/s); "
           f"leader commit {commit0} -> {commit1}")

    live = [c["api"][n] for n in cb.NODE_IDS if n != follower]
    load = Load(live, args.load_rate, args.load_threads)
    load.start()
    time.sleep(args.baseline_s)
    restart_at = time.monotonic()
    target = metric(leader_url, "quorum_raft_commit_index") or commit1
    cb.start_node(d, c, follower)
    follower_url = c["api"][follower]
    reached_target = caught_up = None
    lag_samples = []
    while time.monotonic() < deadline:
        applied = metric(follower_url, "quorum_raft_applied_index")
        commit = metric(leader_url, "quorum_raft_commit_index")
        now = time.monotonic() - restart_at
        if applied is not None and commit is not None:
            lag_samples.append((round(now, 2), commit - applied))
        if applied is not None and reached_target is None and applied >= target:
            reached_target = now
        if applied is not None and commit is not None and applied >= commit - args.slack:
            caught_up = now
            break
        time.sleep(0.1)
    end = time.monotonic()
    time.sleep(2)
    load.finish()
    result = {"phase": "catchup", "follower": follower, "leader": leader, "entries_pushed": pushed,
              "push_s": round(push_s, 1), "push_per_s": round(pushed / max(push_s, 1e-9), 1),
              "follower_applied_at_kill": applied_at_kill,
              "entries_behind": None if applied_at_kill is None else target - applied_at_kill,
              "leader_commit_at_restart": target, "leader_commit_before_push": commit0,
              "reached_commit_at_restart_s": None if reached_target is None else round(reached_target, 2),
              "caught_up_s": None if caught_up is None else round(caught_up, 2),
              "load_rate_target": args.load_rate,
              "load_before_restart": load.window(restart_at - args.baseline_s, restart_at),
              "load_during_catchup": load.window(restart_at, end),
              "lag_samples": lag_samples[:: max(1, len(lag_samples) // 20)],
              "follower_snapshot_log": snapshot_lines(d, follower)}
    cb.emit(args, result)


if __name__ == "__main__":
    main()
