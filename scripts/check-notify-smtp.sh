#!/usr/bin/env bash
# A real email delivery: the Notify module's SMTP client sends one notification to aiosmtpd
# (PyPI; installed here if missing) on a free loopback port, then the message aiosmtpd received
# is checked: envelope, Subject, Message-ID, Date, dot-stuffing undone, UTF-8 body. Plain SMTP
# (starttls = false is allowed for loopback only); the STARTTLS and AUTH paths are covered by
# NotifyTests' scripted server. Needs the tests built (`swift build --build-tests`; scripts/test.sh
# builds first). Takes a few seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf '[notify-smtp %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  log "installing aiosmtpd from PyPI"
  python3 -m pip install --quiet 'aiosmtpd>=1.4,<2' >&2
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/quorum-notify-smtp.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then log "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

# The server: aiosmtpd's Controller on a free port; each message saved with its envelope.
python3 - "$dir" >"$dir/server.log" 2>&1 <<'PY' &
import base64, json, os, signal, socket, sys, threading
from aiosmtpd.controller import Controller

out = sys.argv[1]
class Save:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Save.count += 1
        with open(os.path.join(out, "msg-%d.json" % Save.count), "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "content": base64.b64encode(envelope.original_content).decode("ascii")}, f)
        return "250 Message accepted for delivery"

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
controller = Controller(Save(), hostname="127.0.0.1", port=port)
controller.start()
with open(os.path.join(out, "port.tmp"), "w") as f:
    f.write(str(port))
os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait(60)
controller.stop()
PY
server_pid=$!

# Wait (bounded) for the server to write its port.
deadline=$(( $(date +%s) + 15 ))
while [ ! -s "$dir/port" ]; do
  if ! kill -0 "$server_pid" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
    log "aiosmtpd did not start:"; cat "$dir/server.log" >&2; exit 1
  fi
  sleep 0.1
done
port=$(cat "$dir/port")
log "aiosmtpd on 127.0.0.1:$port; sending one notification"

if ! QUORUM_TEST_SMTP="127.0.0.1:$port" swift test --skip-build --filter 'NotifyTests.AiosmtpdDeliveryTests' >"$dir/test.log" 2>&1; then
  log "the delivery test failed:"; tail -30 "$dir/test.log" >&2; exit 1
fi
grep -q 'Test run with 1 test' "$dir/test.log" || { log "the delivery test did not run:"; tail -30 "$dir/test.log" >&2; exit 1; }

python3 - "$dir" <<'PY'
import base64, email, email.policy, glob, json, sys
files = sorted(glob.glob(sys.argv[1] + "/msg-*.json"))
assert len(files) == 1, "expected exactly one message, got %d" % len(files)
saved = json.load(open(files[0]))
assert saved["from"] == "quorum@example.com", saved["from"]
assert saved["to"] == ["ops@example.com"], saved["to"]
msg = email.message_from_bytes(base64.b64decode(saved["content"]), policy=email.policy.default)
assert msg["Subject"] == "[quorum] dead: nightly-report (attempt 3/3)", msg["Subject"]
assert msg["Message-ID"] == "<ev-0000000000000042@check>", msg["Message-ID"]
assert msg["Date"] == "Sun, 06 Dec 2026 04:25:00 +0000", msg["Date"]
assert msg["From"] == "quorum@example.com" and msg["To"] == "ops@example.com"
body = msg.get_content()
lines = body.splitlines()
i = lines.index("Output (end):")
assert lines[i + 1:i + 5] == ["step 1", ".", ".hidden", "Größe ok"], lines[i + 1:i + 5]
assert "Event id: ev-0000000000000042" in body
print("[notify-smtp] aiosmtpd received the notification intact: envelope, Subject, Message-ID, Date, dot-stuffed lines, UTF-8 body",
      file=sys.stderr)
PY
