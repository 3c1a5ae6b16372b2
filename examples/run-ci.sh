#!/usr/bin/env bash
# The example project, used the way another repository uses face-contracts: copied out of
# this tree into a temporary folder, installed into a fresh virtual environment together
# with face-contracts built from this repository (a normal, non-editable install), and
# tested from there, so nothing reaches its tests except what pip installed.
# Exits non-zero when the install or any test fails. PYTHON picks the interpreter (>= 3.11).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/face-client-ci.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cp -R "$root/examples/face-client" "$work/face-client"
rm -rf "$work/face-client/.pytest_cache" "$work/face-client/.hypothesis"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$root" "$work/face-client[test]"
cd "$work/face-client"
"$work/venv/bin/python" -m pytest -p no:cacheprovider "$@"
