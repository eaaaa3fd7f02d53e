#!/usr/bin/env bash
# Offline checks of deploy/ (no Kubernetes cluster or systemd host needed; the manifests stay
# marked untested). scripts/test.sh runs it with the other checks; takes a few seconds.
#
#   scripts/check-deploy.sh [QUORUM_BINARY]     (default .build/release/quorum, else .build/debug/quorum;
#                                                the config check is skipped when neither exists)
#
# 1. every YAML document parses (python3 yaml.safe_load_all);
# 2. kubernetes-validate --strict against its bundled schemas, when installed
#    (pip install kubernetes-validate);
# 3. the ConfigMap's cluster.toml passes `quorum config check` for every node id;
# 4. systemd-analyze verify on the unit, when systemd-analyze exists.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
quorum="${1:-.build/release/quorum}"
[ -n "${1:-}" ] || [ -x "$quorum" ] || quorum=.build/debug/quorum
work=$(mktemp -d "${TMPDIR:-/tmp}/quorum-deploy.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 - deploy/kubernetes/*.yaml <<'PY'
import sys, yaml
for path in sys.argv[1:]:
    docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
    print(f"yaml ok: {path} ({', '.join(d['kind'] + '/' + d['metadata']['name'] for d in docs)})")
PY

if command -v kubernetes-validate >/dev/null; then
  kubernetes-validate --strict --quiet deploy/kubernetes/*.yaml && echo "kubernetes-validate --strict: ok"
else
  echo "kubernetes-validate not installed: schema check skipped (pip install kubernetes-validate)"
fi

python3 - deploy/kubernetes/configmap.yaml "$work/cluster.toml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
open(sys.argv[2], "w").write(doc["data"]["cluster.toml"])
PY
if [ -x "$quorum" ]; then
  for id in $(grep -o 'id = "quorum-[0-9]"' "$work/cluster.toml" | cut -d'"' -f2); do
    "$quorum" config check "$work/cluster.toml" --id "$id" >"$work/check.out" 2>&1 \
      || { cat "$work/check.out"; echo "config check failed for $id" >&2; exit 1; }
  done
  echo "quorum config check: ok for every node of the ConfigMap's cluster.toml"
else
  echo "$quorum not built: config check skipped"
fi

if command -v systemd-analyze >/dev/null; then
  cp deploy/systemd/quorum.service "$work/quorum@.service"
  complaints="$(systemd-analyze verify "$work/quorum@.service" 2>&1 | grep -v "/usr/local/bin/quorum is not executable" || true)"
  if [ -n "$complaints" ]; then echo "$complaints" >&2; echo "systemd-analyze verify: the unit has problems" >&2; exit 1; fi
  echo "systemd-analyze verify: ok (only the missing /usr/local/bin/quorum, expected here)"
else
  echo "systemd-analyze not installed: unit check skipped"
fi
