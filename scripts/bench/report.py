#!/usr/bin/env python3
"""Renders the Markdown section of docs/benchmarks.md for one scripts/bench.sh run.

  report.py --out OUT    (reads OUT/env.txt, OUT/results.jsonl, OUT/etcd-{default,equal}/summary.txt)
"""
import argparse
import json
import os

def read_etcd(out, name):
    """Medians from ../shared/bench/etcd/bench.sh's summary.txt: {(target, conns): (rps, p50, p99)}, failover."""
    path = os.path.join(out, f"etcd-{name}", "summary.txt")
    thr, fo = {}, {}
    if not os.path.exists(path):
        return thr, fo
    for line in open(path):
        parts = line.split()
        if len(parts) == 6 and parts[0] in ("leader", "follower") and parts[1].isdigit():
            thr[(parts[0], int(parts[1]))] = tuple(float(x) if x != "nan" else float("nan") for x in (parts[2], parts[3], parts[5]))
        if line.startswith("min_ms="):
            for kv in line.split():
                if "=" in kv and not kv.startswith("all_ms"):
                    k, v = kv.split("=", 1)
                    try:
                        fo[k] = float(v)
                    except ValueError:
                        pass
            fo["all"] = line.split("all_ms=", 1)[1].strip() if "all_ms=" in line else ""
    return thr, fo


def percentile(values, p):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def fmt(x, digits=0):
    if x is None or (isinstance(x, float) and x != x):
        return "—"
    return f"{x:,.{digits}f}"


def cpu_per_request(r):
    """CPU milliseconds the three nodes spent per request during the run."""
    if not r.get("nodes_cpu_s") or not r.get("requests"):
        return "—"
    return f"{1000 * r['nodes_cpu_s'] / r['requests']:.2f}"


def short_load(sample):
    """`busy=100% steal=0% load1=1.2 ...` -> `busy 100%, load1 1.2`."""
    parts = dict(kv.split("=", 1) for kv in sample.split() if "=" in kv)
    return f"busy {parts.get('busy', '?')}, load1 {parts.get('load1', '?')}"


def verdict(ok):
    return "met" if ok else "**missed**"


def cmd_report(args):
    out = os.path.abspath(args.out)
    rows = [json.loads(l) for l in open(os.path.join(out, "results.jsonl")) if l.strip()]
    env = {}
    for line in open(os.path.join(out, "env.txt")):
        k, _, v = line.partition(": ")
        env[k] = v.strip()
    e_thr, e_fo = read_etcd(out, "default")
    q_thr, q_fo = read_etcd(out, "equal")
    L = []
    L.append(f"## Cluster ({env.get('date', '')[:10]}): 3 nodes, TLS, fsync, release")
    L.append("")
    L.append(f"- **When:** {env.get('date', '')}; commit {env.get('commit', '').split()[0] if env.get('commit') else ''}. "
             f"**Machine:** 2 cores ({env.get('kernel', '').split('cpu: ')[-1]}), shared.")
    L.append(f"- **Load:** before `{env.get('uptime before', '')}`; after `{env.get('uptime after', '')}`; "
             f"CPU sample before: {env.get('cpu before', '')}.")
    L.append(f"- **Command:** `scripts/bench.sh` ({env.get('params', '')}). Each phase starts a fresh 3-node "
             "cluster in a temp dir (heartbeat 50 ms, election 300–600 ms, peers on mutual TLS, WAL fsync, "
             "free loopback ports); etcd 3.4 with `../shared/bench/etcd/bench.sh all` in the same window.")
    L.append("")
    L.append("### Submissions (wrk; one connection goes to the leader, more are spread round-robin over the 3 nodes)")
    L.append("")
    L.append("| request | connections | jobs/s | requests/s | p50 ms | p99 ms | errors | node CPU ms per request | machine busy during run | etcd puts/s leader / follower (defaults) | etcd leader p50 / p99 ms | etcd puts/s leader at 50/300 ms | CPU before |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        if r["phase"] != "submit":
            continue
        e = e_thr.get(("leader", r["conns"])) if r["batch"] == 0 else None
        ef = e_thr.get(("follower", r["conns"])) if r["batch"] == 0 else None
        eq = q_thr.get(("leader", r["conns"])) if r["batch"] == 0 else None
        kind = "1 job" if r["batch"] == 0 else f"batch of {r['batch']}"
        L.append(f"| {kind} | {r['conns']} | {fmt(r['jobs_per_s'])} | {fmt(r['rps'])} | {fmt(r['p50_ms'], 1)} | "
                 f"{fmt(r['p99_ms'], 1)} | {r['errors']} | {cpu_per_request(r)} | {r.get('machine_busy_pct', '—')}% | {(fmt(e[0]) + ' / ' + fmt(ef[0] if ef else None)) if e else ''} | "
                 f"{(fmt(e[1], 1) + ' / ' + fmt(e[2], 1)) if e else ''} | {fmt(eq[0]) if eq else ''} | {short_load(r['load'])} |")
    L.append("")
    drains = [r for r in rows if r["phase"] == "drain"]
    if drains:
        L.append("**Submitted → completed** (noop jobs submitted in batches over 4 connections, round-robin over the "
                 "nodes; the clock stops when no job is pending, queued or running):")
        L.append("")
        L.append("| executor slots per node | jobs | submitted in s (jobs/s) | all finished after s | jobs/s | sampled final states |")
        L.append("|---:|---:|---:|---:|---:|---|")
        for r in drains:
            L.append(f"| {r.get('slots', '?')} | {r['jobs']:,} | {r['submit_s']} ({fmt(r['submit_jobs_per_s'])}) | "
                     f"{r['total_s']} | **{fmt(r['jobs_per_s'])}** | {r['sample_states']} |")
        L.append("")
    lag_rows = [r for r in rows if r["phase"] == "lag"]
    if lag_rows:
        L.append("**Schedule lag** (`started_at - scheduled_at` of the first attempt; `now` = submitted for now, "
                 "`delayed` = `delay_seconds: 1`):")
        L.append("")
        L.append("| condition | background load | jobs | now p50 / p99 / max ms | delayed p50 / p99 / max ms |")
        L.append("|---|---:|---:|---:|---:|")
        for r in lag_rows:
            n, dl = r["now"], r["delayed"]
            L.append(f"| {r['label']} | {fmt(r['load_rate_achieved'])} jobs/s | {n['n']} + {dl['n']} | "
                     f"{fmt(n['p50_ms'], 1)} / {fmt(n['p99_ms'], 1)} / {fmt(n['max_ms'], 1)} | "
                     f"{fmt(dl['p50_ms'], 1)} / {fmt(dl['p99_ms'], 1)} / {fmt(dl['max_ms'], 1)} |")
        L.append("")
    fo = next((r for r in rows if r["phase"] == "failover"), None)
    if fo:
        L.append("**Failover** (SIGKILL the leader → first 201 on a surviving node, a write started every 10 ms; "
                 "the killed node is restarted and caught up before the next kill):")
        L.append("")
        L.append("| system | kills | median ms | p99 ms | max ms | min ms |")
        L.append("|---|---:|---:|---:|---:|---:|")
        L.append(f"| Quorum (heartbeat 50, election 300–600) | {fo['ok']}/{fo['kills']} | {fmt(fo['median_ms'])} | "
                 f"{fmt(fo['p99_ms'])} | {fmt(fo['max_ms'])} | {fmt(fo['min_ms'])} |")
        for label, f in (("etcd defaults (100 / 1000)", e_fo), ("etcd at Quorum's timeouts (50 / 300)", q_fo)):
            if f:
                every = [float(x) for x in f.get("all", "").split() if x.replace(".", "", 1).isdigit()]
                L.append(f"| {label} | {len(every)} | {fmt(f.get('median_ms'))} | {fmt(percentile(every, 99))} | "
                         f"{fmt(f.get('max_ms'))} | {fmt(f.get('min_ms'))} |")
        L.append("")
        L.append(f"Quorum, every kill (ms): {' '.join(fmt(x) for x in fo['all_ms'])}. Restarted node caught up "
                 f"in {fo['catch_up_s_median']} s (median).")
        L.append("")
    st = next((r for r in rows if r["phase"] == "stable"), None)
    if st:
        tb = {v.get("term") for v in st["before"].values()}
        ta = {v.get("term") for v in st["after"].values()}
        changes = (max(ta) - max(tb)) if tb and ta and None not in tb | ta else None
        def view(v):
            return ", ".join(f"{n}: leader {x.get('leader')} term {x.get('term')}" for n, x in sorted(v.items()))
        L.append(f"**Stability:** {st['seconds']} s of single submissions at 64 connections "
                 f"({fmt(st['rps'])} jobs/s, p99 {fmt(st['p99_ms'], 1)} ms). Before: {view(st['before'])}; after: "
                 f"{view(st['after'])}: **{changes} leader changes**.")
        L.append("")
    # Targets
    single64 = next((r for r in rows if r["phase"] == "submit" and r["batch"] == 0 and r["conns"] == 64), None)
    etcd64 = e_thr.get(("leader", 64))
    drain = next((r for r in rows if r["phase"] == "drain" and r.get("slots") == 4), None) or \
        next((r for r in rows if r["phase"] == "drain"), None)
    L.append("### Targets")
    L.append("")
    L.append("| target | measured | verdict |")
    L.append("|---|---|---|")
    if single64 and etcd64:
        ratio = single64["jobs_per_s"] / etcd64[0] if etcd64[0] else float("nan")
        L.append(f"| single submissions at 64 connections ≥ 1.5 × etcd puts/s | {fmt(single64['jobs_per_s'])} vs "
                 f"{fmt(etcd64[0])} = {ratio:.2f}× | {verdict(ratio >= 1.5)} |")
    if drain and drain.get("jobs_per_s"):
        L.append(f"| ≥ 2,400 noop jobs/s submitted → completed ({drain.get('slots', '?')} slots per node) | {fmt(drain['jobs_per_s'])} "
                 f"({drain['jobs_per_s'] / 2400:.2f}× the target) | {verdict(drain['jobs_per_s'] >= 2400)} |")
    if fo and fo.get("median_ms") is not None:
        if e_fo.get("median_ms"):
            L.append(f"| failover median ≤ ½ etcd's at its defaults | {fmt(fo['median_ms'])} vs ½ × "
                     f"{fmt(e_fo['median_ms'])} = {fmt(e_fo['median_ms'] / 2)} | {verdict(fo['median_ms'] <= e_fo['median_ms'] / 2)} |")
        if q_fo.get("median_ms"):
            L.append(f"| failover median below etcd's at equal timeouts | {fmt(fo['median_ms'])} vs "
                     f"{fmt(q_fo['median_ms'])} | {verdict(fo['median_ms'] < q_fo['median_ms'])} |")
        L.append(f"| failover p99 < 1 s | {fmt(fo['p99_ms'])} ms | {verdict(fo['p99_ms'] < 1000)} |")
    if st:
        L.append(f"| 0 leader changes in {st['seconds']} s of full load | {changes} | {verdict(changes == 0)} |")
    L.append("")
    print("\n".join(L))



if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    cmd_report(ap.parse_args())
