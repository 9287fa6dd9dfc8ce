#!/usr/bin/env bash
# The whole test suite, with its own set-up: what README.md's Quick start and .ci/run call.
#
# Some tests run real tools (pre-commit runs our hook; Microsoft's sarif-multitool validates
# our SARIF). They are installed from PyPI into a virtualenv and from npm into a folder, both
# under target/ (pinned in scripts/test-requirements.txt and scripts/test-tools-npm/, each
# reinstalled only when its pin changes), for the tests alone; nothing outside the checkout
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

# Microsoft's SARIF validator (with GitHub's ingestion rules), from npm, pinned in
# scripts/test-tools-npm/package.json; the SARIF tests run it on our output.
npm_tools="$tools/npm"
if ! cmp -s scripts/test-tools-npm/package.json "$npm_tools/package.json" 2>/dev/null; then
    echo "== installing the test tools (scripts/test-tools-npm) into $npm_tools"
    rm -rf "$npm_tools"
    mkdir -p "$npm_tools"
    cp scripts/test-tools-npm/package.json "$npm_tools/"
    (cd "$npm_tools" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
multitool=$(find "$npm_tools/node_modules/@microsoft" -path '*sarif-multitool-*/Sarif.Multitool' \
    -type f | head -n 1)
if [ -n "$multitool" ]; then
    chmod u+x "$multitool"  # its own postinstall step, which --ignore-scripts skipped
    SARIF_MULTITOOL="$(cd "$(dirname "$multitool")" && pwd)/Sarif.Multitool"
    export SARIF_MULTITOOL
else
    echo "warning: npm installed no sarif-multitool binary for this platform" >&2
fi

# Snapshots (insta) are compared, never written: a missing or changed one fails. To accept
# new output after reviewing it: INSTA_UPDATE=always scripts/test.sh.
export INSTA_UPDATE=${INSTA_UPDATE:-no}

cargo test --workspace --all-targets "$@"
