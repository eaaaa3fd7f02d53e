#!/usr/bin/env python3
"""The dashboard in a real browser (scripts/check-dashboard.sh runs it; docs/testing.md).

Starts a 3-node cluster of debug `quorum node` processes on free loopback ports in a temp
directory (with API tokens unless --no-tokens, and shell tasks limited to /bin/echo, /bin/false
and /bin/true),
loads the dashboard from a follower in headless Chromium driven by Selenium (the Debian
chromium and chromedriver, named explicitly: never Selenium Manager), and checks what an
operator does:

  1. the page asks for a token and then follows the event stream ("live");
  2. a job submitted through the form goes from a waiting state to Completed without a reload;
  3. a DAG's graph shows its tasks and their live states;
  4. a dead run (a job that fails with max_attempts 1) is requeued from the DLQ view, and a
     DAG's dead task is resumed from the DAG's view;
  5. the cluster view shows three nodes, the leader, and the leader's view from a follower;
  6. the cron preview lists 5 fire times;
  7. a job named <img src=x onerror=alert(1)> renders as text: no img element, no alert;
  8. the leader is killed: the page shows the new leader and a job submitted then completes;
  and the browser logged no Content-Security-Policy violation.

Screenshots of each view go to the output folder (printed; kept). Every wait is a condition
with a deadline (WebDriverWait); nodes are stopped by their PIDs.

    python3 scripts/dashboard/browser_test.py [--bin .build/debug/quorum] [--out DIR]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import cluster_bench as cb  # noqa: E402  (free_ports, start_node, stop_pid: the benchmark's cluster helpers)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

XSS_NAME = "<img src=x onerror=alert(1)>"
WAIT = 30


def log(msg):
    print(f"[dashboard {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class API:
    """The API of one node, with the admin token."""

    def __init__(self, url, token):
        self.url, self.token = url, token

    def call(self, method, path, body=None, timeout=5.0):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw) if raw else None
            except ValueError:
                return e.code, None


def eventually(what, fn, timeout=WAIT, poll=0.1):
    """fn()'s first truthy value within `timeout` seconds, else fail naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError) as e:
            last = e
        time.sleep(poll)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def start_cluster(d, binary, tokens=True):
    for sub in ("pids", "logs", "data", "certs"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    ports = cb.free_ports(6)
    c = {"bin": binary, "api": {}, "raft": {}}
    nodes = []
    for i, node in enumerate(cb.NODE_IDS):
        c["raft"][node] = f"127.0.0.1:{ports[2 * i]}"
        c["api"][node] = f"http://127.0.0.1:{ports[2 * i + 1]}"
        nodes.append(f'[[nodes]]\nid = "{node}"\nraft = "{c["raft"][node]}"\napi = "127.0.0.1:{ports[2 * i + 1]}"\n')
    with open(os.path.join(d, "cluster.toml"), "w") as f:
        f.write(f"""# Written by scripts/dashboard/browser_test.py.
[cluster]
name = "dashboard"
data_dir = "{d}/data/{{id}}"

[raft]
heartbeat_ms = 50
election_timeout_ms = [300, 600]

[tls]
ca = "{d}/certs/ca.pem"
cert = "{d}/certs/{{id}}.pem"
key = "{d}/certs/{{id}}.key"

""" + (f"""[api]
tokens_file = "{d}/tokens"

""" if tokens else "") + f"""[executor]
slots = 2
allow_shell = true
shell_allow = ["/bin/echo", "/bin/false", "/bin/true"]
shutdown_grace_ms = 1000

""" + "\n".join(nodes))
    with open(cb.cluster_file(d), "w") as f:
        json.dump(c, f)
    cfg = os.path.join(d, "cluster.toml")
    subprocess.run([binary, "certs", "init", "--config", cfg, "--out", os.path.join(d, "certs")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    token = ""
    if tokens:
        out = subprocess.run([binary, "tokens", "create", "--file", os.path.join(d, "tokens"), "--name", "admin", "--role", "admin"],
                             check=True, capture_output=True, text=True, timeout=60).stdout
        token = next(w for w in out.split() if len(w) >= 40)
    for node in cb.NODE_IDS:
        cb.start_node(d, c, node)
    return c, token


def stop_cluster(d):
    for node in cb.NODE_IDS:
        cb.stop_pid(d, node, cb.node_pid(d, node), 5)


def views(c, token):
    out = {}
    for node, url in c["api"].items():
        try:
            status, body = API(url, token).call("GET", "/api/cluster", timeout=1)
            if status == 200:
                out[node] = body
        except OSError:
            pass
    return out


def make_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1400,1000", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)


class Page:
    def __init__(self, driver, out):
        self.d, self.out, self.shots = driver, out, []

    def wait(self, what, fn, timeout=WAIT):
        def attempt(_):
            try:
                return fn()
            except StaleElementReferenceException:
                return False
        return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(attempt, message=what)

    def click(self, what, locate, timeout=WAIT):
        """Clicks the element `locate()` finds, finding it again whenever a live re-render (an SSE
        update redraws tables and graphs) replaced it between finding and clicking; returns it.
        A stale element is not clicked, so the click happens once."""
        def attempt():
            element = locate()
            if element is None:
                return None
            element.click()
            return element
        return self.wait(what, attempt, timeout)

    def css(self, selector):
        return self.d.find_elements(By.CSS_SELECTOR, selector)

    def text(self, element_id):
        return self.d.find_element(By.ID, element_id).text

    def go(self, hash_):
        self.d.execute_script("location.hash = arguments[0]", hash_)

    def shot(self, name):
        path = os.path.join(self.out, name + ".png")
        self.d.save_screenshot(path)
        self.shots.append(path)

    def no_alert(self):
        try:
            alert = self.d.switch_to.alert
            raise AssertionError(f"an alert opened: {alert.text!r}")
        except NoAlertPresentException:
            pass


def run(args):
    d = tempfile.mkdtemp(prefix="quorum-dashboard-", dir=os.environ.get("TMPDIR"))
    out = args.out or os.path.join(d, "screenshots")
    os.makedirs(out, exist_ok=True)
    log(f"output folder {out}")
    started = time.monotonic()
    c, token = start_cluster(d, os.path.abspath(args.bin), tokens=not args.no_tokens)
    driver = None
    try:
        leader = eventually("a leader", lambda: next((v["leader"] for v in views(c, token).values() if v.get("leader")), None), 60)
        follower = next(n for n in cb.NODE_IDS if n != leader)
        url = c["api"][follower]
        api = API(url, token)
        eventually("a first write", lambda: api.call("POST", "/api/jobs", {"name": "warm-up"})[0] == 201)
        log(f"leader {leader}; loading the dashboard from follower {follower} at {url}")

        driver = make_driver()
        page = Page(driver, out)
        driver.get(url + "/")
        # 1. With tokens the page asks for one, then follows the event stream.
        if token:
            page.wait("the token form", lambda: driver.find_element(By.ID, "token-form").is_displayed())
            page.shot("01-token")
            driver.find_element(By.ID, "token-input").send_keys(token)
            driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
        page.wait("the event stream live", lambda: page.text("live-status") == "live")
        if token:
            stored = driver.execute_script("return sessionStorage.getItem('quorum.token')")
            assert stored == token, "the token is kept in sessionStorage"
        else:
            assert not driver.find_element(By.ID, "token-form").is_displayed(), "no token asked for on an open node"
        assert driver.execute_script("return localStorage.length") == 0, "nothing in localStorage"
        driver.execute_script("window.__noReload = 1")

        # A crafted link with a malformed %-escape: the page says so and shows the list (it threw).
        page.go("#/jobs/%E0%A4%A")
        page.wait("the malformed-address message", lambda: "malformed" in page.text("message"))
        assert driver.find_element(By.ID, "view-jobs").is_displayed(), "the jobs list after a malformed link"

        # 2. A job submitted through the form goes from waiting to Completed without a reload.
        page.go("#/submit")
        Select(driver.find_element(By.ID, "submit-kind")).select_by_value("job")
        body = driver.find_element(By.ID, "submit-body")
        body.clear()
        body.send_keys(json.dumps({"name": "dashboard-hello", "delay_seconds": 2,
                                   "task": {"kind": "shell", "command": ["/bin/echo", "hello from the dashboard"]}}))
        page.shot("07-submit")
        driver.find_element(By.ID, "submit-button").click()
        link = page.wait("the created job's link", lambda: (page.css("#submit-link") or [None])[0])
        job_id = link.text
        page.go("#/jobs")
        row = f'#jobs-table tr[data-job-id="{job_id}"]'
        seen = []

        def status_now():
            cells = page.css(row + " td.status")
            if cells:
                text = cells[0].text
                if not seen or seen[-1] != text:
                    seen.append(text)
                return text == "Completed"
            return False
        page.wait("the job's row Completed", status_now)
        assert seen[0] in ("Pending", "In-Progress"), f"first status seen {seen}"
        assert driver.execute_script("return window.__noReload") == 1, "the page reloaded"
        log(f"job {job_id}: statuses seen live {seen}")
        page.shot("02-jobs")
        # Its detail: runs, executor, output.
        page.go("#/jobs/" + job_id)
        page.wait("the job's run", lambda: page.css("#runs-table tbody tr"))
        page.wait("the output tail", lambda: "hello from the dashboard" in page.text("output-text"))
        page.shot("03-job")

        # 3. A DAG: its graph with live task states.
        page.go("#/submit")
        Select(driver.find_element(By.ID, "submit-kind")).select_by_value("dag")
        driver.find_element(By.ID, "submit-button").click()  # the example DAG the form fills in
        link = page.wait("the created DAG's link", lambda: next((a for a in page.css("#submit-link") if a.text.startswith("d")), None))
        dag_id = link.text
        page.click("the created DAG's link, clicked",
                   lambda: next((a for a in page.css("#submit-link") if a.text == dag_id), None))
        page.wait("four task nodes in the graph", lambda: len(page.css("#dag-graph g.dag-node")) == 4)
        page.wait("every task succeeded, live",
                  lambda: all("st-succeeded" in g.get_attribute("class") for g in page.css("#dag-graph g.dag-node")))
        assert len(page.css("#dag-graph path.edge")) == 3, "three dependencies drawn"
        page.shot("04-dag")
        log(f"DAG {dag_id}: graph drawn, every task succeeded")

        # 4. A dead run requeued from the DLQ view.
        status, failing = api.call("POST", "/api/jobs", {"name": "dashboard-fails", "task": {"kind": "shell", "command": ["/bin/false"]},
                                                         "retry": {"max_attempts": 1}})
        assert status == 201, (status, failing)
        page.go("#/dlq")

        def dead_row():
            page.go("#/dlq") if not page.css("#dlq-table tbody tr") else None
            return next((r for r in page.css("#dlq-table tbody tr") if failing["id"] in r.text), None)
        page.wait("the failed job in the DLQ", dead_row)
        page.shot("05-dlq")

        def requeue_button():
            row = dead_row()
            return next(iter(row.find_elements(By.CSS_SELECTOR, "button.requeue")), None) if row else None
        page.click("the failed job's requeue button, clicked", requeue_button)
        page.wait("the requeue confirmed", lambda: "requeued" in page.text("message"))
        eventually("a second attempt after the requeue",
                   lambda: len(api.call("GET", f"/api/jobs/{failing['id']}/runs")[1]["items"]) >= 2)
        log(f"job {failing['id']}: dead, requeued from the DLQ view, ran again")

        # ... and a DAG's dead task resumed from the DAG's own view: the DAG run continues.
        status, failing_dag = api.call("POST", "/api/dags", {"name": "dashboard-dag-fails", "tasks": [
            {"id": "first", "task": {"kind": "noop"}},
            {"id": "flaky", "task": {"kind": "shell", "command": ["/bin/false"]}, "depends_on": ["first"], "retry": {"max_attempts": 1}},
            {"id": "last", "task": {"kind": "noop"}, "depends_on": ["flaky"]}]})
        assert status == 201, (status, failing_dag)
        page.go("#/dags/" + failing_dag["id"])
        page.wait("Resume from DLQ on the dead task",
                  lambda: next(iter(page.css('#dag-tasks tr[data-task="flaky"] button.requeue')), None))
        page.wait("the dead task drawn dead",
                  lambda: any("st-dead" in g.get_attribute("class") for g in page.css('#dag-graph g.dag-node[data-task="flaky"]')))
        page.shot("04b-dag-dead-task")
        page.click("Resume from DLQ on the dead task, clicked",
                   lambda: next(iter(page.css('#dag-tasks tr[data-task="flaky"] button.requeue')), None))
        page.wait("the resume confirmed", lambda: "the DAG run continues" in page.text("message"))
        page.wait("the task's second attempt, live",
                  lambda: "attempt 2" in page.css('#dag-graph g.dag-node[data-task="flaky"] text.task-state')[0].text)
        log(f"DAG {failing_dag['id']}: dead task resumed from the DAG view, attempt 2 ran")

        # 5. The cluster view from a follower: three nodes, the leader, the leader's view.
        page.go("#/cluster")
        page.wait("three nodes", lambda: len(page.css("#cluster-table tbody tr")) == 3)
        page.wait("the leader's row", lambda: any(r.text.split()[1:2] == ["leader"] for r in page.css("#cluster-table tbody tr")))
        page.wait("the leader's view", lambda: "the leader" in page.text("cluster-fields"))
        page.shot("06-cluster")

        # 6. The cron preview.
        page.go("#/cron")
        page.wait("five fire times", lambda: len(page.css("#cron-times li")) == 5)
        page.shot("08-cron")

        # 7. A hostile name renders as text.
        status, hostile = api.call("POST", "/api/jobs", {"name": XSS_NAME, "delay_seconds": 3600})
        assert status == 201, (status, hostile)
        page.go("#/jobs")
        page.wait("the hostile name listed as text",
                  lambda: any(XSS_NAME in r.text for r in page.css("#jobs-table tbody tr")))
        page.go("#/jobs/" + hostile["id"])
        page.wait("the hostile name in the job's title", lambda: XSS_NAME in page.text("job-title"))
        assert driver.execute_script("return document.getElementsByTagName('img').length") == 0, "an img element was created"
        page.no_alert()
        page.shot("09-hostile-name")

        page.go("#/jobs")
        page.wait("every job listed", lambda: len(page.css("#jobs-table tbody tr")) >= 4)
        page.shot("10-jobs-all")

        # 8. The leader dies: the page, loaded from a follower, shows the new leader and goes on.
        pid = cb.node_pid(d, leader)
        assert cb.is_our_node(d, leader, pid), f"{leader}'s pid {pid}"
        os.kill(pid, signal.SIGKILL)
        log(f"killed the leader {leader} (pid {pid})")
        page.go("#/cluster")
        shown = lambda: driver.execute_script("return document.querySelector('#cluster-fields dd').textContent")  # noqa: E731
        new_leader = page.wait("a new leader in the cluster view", lambda: (lambda v: v if v not in ("", "none", leader) else None)(shown()))
        page.wait("still live", lambda: page.text("live-status") == "live")
        page.shot("11-after-failover")
        page.go("#/submit")
        Select(driver.find_element(By.ID, "submit-kind")).select_by_value("job")
        body = driver.find_element(By.ID, "submit-body")
        body.clear()
        body.send_keys(json.dumps({"name": "after-failover", "task": {"kind": "noop"}}))
        driver.find_element(By.ID, "submit-button").click()
        after = page.wait("the job submitted after the failover", lambda: (page.css("#submit-link") or [None])[0]).text
        page.go("#/jobs")
        page.wait("the job after the failover Completed, live",
                  lambda: [c.text for c in page.css(f'#jobs-table tr[data-job-id="{after}"] td.status')] == ["Completed"])
        assert driver.execute_script("return window.__noReload") == 1, "the page reloaded"
        log(f"leader {leader} killed; the page shows {new_leader} leading and a new job completed")

        problems = [e for e in driver.get_log("browser") if "Content Security Policy" in e.get("message", "")]
        assert not problems, f"CSP violations: {problems}"
        elapsed = time.monotonic() - started
        log(f"{len(page.shots)} screenshots in {out}")
        print(f"dashboard ({'no tokens' if not token else 'tokens'}): {elapsed:.0f} s; screenshots in {out}")
        return 0
    except Exception:
        if driver is not None:
            try:
                driver.save_screenshot(os.path.join(out, "failure.png"))
                log("browser log: " + json.dumps(driver.get_log("browser"))[:4000])
            except Exception:  # noqa: BLE001 (best effort while failing)
                pass
        log(f"failed; node logs in {d}/logs, screenshots in {out}")
        raise
    finally:
        if driver is not None:
            driver.quit()
        stop_cluster(d)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=".build/debug/quorum")
    ap.add_argument("--no-tokens", action="store_true", help="a cluster without [api] tokens_file (the local clusters' setting)")
    ap.add_argument("--out", default=None, help="where screenshots go (default: a folder in the temp directory)")
    sys.exit(run(ap.parse_args()))


if __name__ == "__main__":
    main()
