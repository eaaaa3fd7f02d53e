#!/usr/bin/env bash
# Validates docs/openapi.yaml against the OpenAPI 3.0 schema (installs the validator if missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! python3 -c 'import openapi_spec_validator, yaml' 2>/dev/null; then
  python3 -m pip install --quiet 'openapi-spec-validator>=0.7' 'PyYAML>=6' >&2
fi
python3 - <<'PY'
import sys, yaml
from openapi_spec_validator import validate
with open("docs/openapi.yaml") as f:
    spec = yaml.safe_load(f)
validate(spec)
print(f"docs/openapi.yaml: valid OpenAPI {spec['openapi']}, {len(spec['paths'])} paths")
PY
