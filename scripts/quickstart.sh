#!/usr/bin/env bash
# Runs README.md's Quick start as a new user would: clone the committed tree into an empty
# temporary folder (nothing beside it, no build cache), then run the two lines of the Quick
# start's first ```sh block there, taken from the README text itself. Fails when the block
# is not exactly two lines or when either line fails. .ci/run calls this.
#
# Usage: scripts/quickstart.sh [--keep]   (--keep leaves the clone for a look afterwards)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keep=${1:-}

# The first ```sh block after the "## Quick start" heading.
mapfile -t lines < <(awk '
    /^## / { in_section = ($0 == "## Quick start") }
    in_section && !done && /^```sh$/ { in_block = 1; next }
    in_block && /^```$/ { in_block = 0; done = 1 }
    in_block { print }
' "$here/README.md")
if [ "${#lines[@]}" -ne 2 ]; then
    echo "README.md: the Quick start's first sh block must hold exactly two lines, not ${#lines[@]}" >&2
    exit 1
fi

work=$(mktemp -d)
if [ "$keep" = "--keep" ]; then
    echo "== keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
git clone --quiet --no-local "$here" "$work/irsa-lint"
cd "$work/irsa-lint"
# A fresh clone builds into its own target/, as a new user's does.
unset CARGO_TARGET_DIR

for line in "${lines[@]}"; do
    echo "== quick start: $line"
    bash -euo pipefail -c "$line"
done
