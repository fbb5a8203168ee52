#!/usr/bin/env bash
# Install Cumulo with its test dependencies into .venv and run everything CI runs:
# lint, format check, strict typing (mypy; all but cumulo/virt outside qemu/), and the
# whole test suite (arguments go to pytest: -m "not integration" for the unit tests).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh
bash scripts/system-deps.sh

python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy cumulo
echo "== pytest"
.venv/bin/pytest "$@"
