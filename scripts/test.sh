#!/usr/bin/env bash
# The whole test suite, with its own set-up: what README.md's Quick start and .ci/run call.
#
# Some tests run real tools (pre-commit runs our hook). They are installed from PyPI into a
# virtualenv under target/ (pinned in scripts/test-requirements.txt, reinstalled only when
# that file changes) and put first on PATH for the tests alone; nothing outside the checkout
# is written or read. Arguments go to `cargo test`, e.g. `scripts/test.sh precommit`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=${CARGO_TARGET_DIR:-target}
tools="$target/test-tools"
venv="$tools/venv"
requirements=scripts/test-requirements.txt

if ! cmp -s "$requirements" "$tools/installed-requirements.txt" 2>/dev/null; then
    echo "== installing the test tools ($requirements) into $venv"
    rm -rf "$venv"
    mkdir -p "$tools"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$tools/installed-requirements.txt"
fi
PATH="$(cd "$venv/bin" && pwd):$PATH"
export PATH

# Snapshots (insta) are compared, never written: a missing or changed one fails. To accept
# new output after reviewing it: INSTA_UPDATE=always scripts/test.sh.
export INSTA_UPDATE=${INSTA_UPDATE:-no}

cargo test --workspace --all-targets "$@"
