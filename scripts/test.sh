#!/usr/bin/env bash
# The whole test suite, with its own set-up: what README.md's Quick start and .ci/run call.
#
# Some tests run real tools: pre-commit runs our hooks, Microsoft's sarif-multitool
# validates our SARIF, actionlint checks the GitHub Action and the release workflow, pip
# installs our wheel, vsce packages the VS Code extension. They are installed under
# target/test-tools, never globally, each reinstalled only when its pin file changes:
#   - Python tools from PyPI into a virtualenv (scripts/test-requirements.txt), put first on
#     PATH for the tests alone;
#   - wheels the tests install offline into the wheelhouse (scripts/test-wheelhouse.txt);
#   - Node tools from npm (scripts/test-tools-npm/package-lock.json), and the VS Code
#     extension's runtime dependencies (editors/vscode/package-lock.json).
# Then the irsa-lint wheel is built into the wheelhouse with maturin, in the dev profile
# (the packaging is under test, not the optimiser), sharing target/ with the tests' build.
# Nothing outside the checkout is written or read. Arguments go to `cargo test`, e.g.
# `scripts/test.sh precommit`.
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

wheelhouse="$tools/wheelhouse"
if ! cmp -s scripts/test-wheelhouse.txt "$tools/installed-wheelhouse.txt" 2>/dev/null; then
    echo "== downloading the wheelhouse (scripts/test-wheelhouse.txt) into $wheelhouse"
    rm -rf "$wheelhouse"
    python -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
        --dest "$wheelhouse" -r scripts/test-wheelhouse.txt
    cp scripts/test-wheelhouse.txt "$tools/installed-wheelhouse.txt"
fi

# `npm ci` in a copy of each pinned folder; the npm cache stays under target/ too.
npm_install() {
    local source=$1 destination=$2
    if ! cmp -s "$source/package-lock.json" "$destination/package-lock.json" 2>/dev/null; then
        echo "== installing $source/package-lock.json into $destination"
        rm -rf "$destination"
        mkdir -p "$destination"
        cp "$source/package.json" "$source/package-lock.json" "$destination/"
        # --ignore-scripts: none of these packages needs its install scripts to run here
        # (sarif-multitool's only sets the executable bit, done below).
        (cd "$destination" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
            --loglevel=error --cache "$(cd .. && pwd)/npm-cache")
    fi
}
npm_install scripts/test-tools-npm "$tools/npm"
npm_install editors/vscode "$tools/vscode-extension"
PATH="$(cd "$tools/npm/node_modules/.bin" && pwd):$PATH"
export PATH
# Microsoft's SARIF validator (with GitHub's ingestion rules); the SARIF tests run it on our
# output.
multitool=$(find "$tools/npm/node_modules/@microsoft" -path '*sarif-multitool-*/Sarif.Multitool' \
    -type f | head -n 1)
if [ -n "$multitool" ]; then
    chmod u+x "$multitool"  # its own postinstall step, which --ignore-scripts skipped
    SARIF_MULTITOOL="$(cd "$(dirname "$multitool")" && pwd)/Sarif.Multitool"
    export SARIF_MULTITOOL
else
    echo "warning: npm installed no sarif-multitool binary for this platform" >&2
fi
# Where the tests find the wheelhouse and the extension's dependencies.
IRSA_LINT_TEST_TOOLS="$(cd "$tools" && pwd)"
export IRSA_LINT_TEST_TOOLS

echo "== building the irsa-lint wheel into $wheelhouse"
rm -f "$wheelhouse"/irsa_lint-*.whl
maturin build --quiet --profile dev --out "$wheelhouse"

# Snapshots (insta) are compared, never written: a missing or changed one fails. To accept
# new output after reviewing it: INSTA_UPDATE=always scripts/test.sh.
export INSTA_UPDATE=${INSTA_UPDATE:-no}

cargo test --workspace --all-targets "$@"
