#!/usr/bin/env bash
# Builds the example plugins into $CARGO_TARGET_DIR/example-plugins/
# (default target/example-plugins/): js.wasm and python.wasm, each with the
# limits manifest it needs. Installs the tools locally, pinned:
#   - componentize-js 0.23.0 (and jco 1.35.0, for the conformance kit under
#     Node) from npm into examples/plugins/js/node_modules (git-ignored),
#     from package-lock.json;
#   - componentize-py 0.25.1 from PyPI into a venv under the target dir.
# Needs node >= 20, npm, python3 >= 3.10 with venv, and cargo (or a built
# crm-consent in $CRM_CONSENT_BIN).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
out=$target/example-plugins
tools=$target/example-tools
COMPONENTIZE_PY=0.25.1
mkdir -p "$out" "$tools"

echo "== example plugins: tools"
(cd "$here/js" && npm ci --no-audit --no-fund --loglevel=error)
if [ ! -x "$tools/venv/bin/componentize-py" ] ||
    [ "$("$tools/venv/bin/componentize-py" --version)" != "componentize-py $COMPONENTIZE_PY" ]; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet "componentize-py==$COMPONENTIZE_PY"
fi

echo "== example plugins: js (componentize-js)"
node "$here/js/componentize.mjs" "$root/wit" "$out/js.bare.wasm"

echo "== example plugins: python (componentize-py --stub-wasi)"
# --stub-wasi: the CPython runtime's WASI calls are stubbed out, so the
# component imports nothing (the host's linker is empty).
rm -rf "$here/python/__pycache__"
"$tools/venv/bin/componentize-py" -d "$root/wit" -w consent-plugin \
    componentize --stub-wasi -p "$here/python" app -o "$out/python.bare.wasm"
rm -rf "$here/python/__pycache__"

echo "== example plugins: limits manifests"
# CRM_CONSENT_BIN: a crm-consent binary built already (.ci/run passes the
# test build's, so the host is not built a second time with other features).
crm() {
    if [ -x "${CRM_CONSENT_BIN:-}" ]; then
        "$CRM_CONSENT_BIN" "$@"
    else
        cargo run --quiet -p crm-consent --bin crm-consent -- "$@"
    fi
}
# CPython's component holds 38 core instances (the default allows 8). Both
# interpreters take 2-20 µs per batch contact, over the default 2 µs, and
# burn 50k-100k units of fuel per batch contact (measured: Python over 50k,
# JS over 70k), over the default 6,000 tuned for compiled Rust: 200k leaves
# a 2-4x margin and still stops a looping batch.
crm plugin manifest "$out/python.bare.wasm" --out "$out/python.wasm" \
    --core-instances 38 --batch-contact-us 20 --batch-contact-fuel 200000
# SpiderMonkey's heap grows with each 100k batch until the instance is
# recycled; 64 MiB leaves room for several batches.
crm plugin manifest "$out/js.bare.wasm" --out "$out/js.wasm" --memory-mib 64 \
    --batch-contact-us 20 --batch-contact-fuel 200000
rm -f "$out/js.bare.wasm" "$out/python.bare.wasm"
ls -l "$out"
