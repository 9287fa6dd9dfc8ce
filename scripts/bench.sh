#!/usr/bin/env bash
# Whole-program benchmark: generates synthetic monorepos of N services (irsa-lint-gen) and
# measures, for each, wall time and peak RSS of `irsa-lint check` and of the parse-only floor
# (irsa-lint-parse-floor), and of checkov when it is installed. Checks that the findings
# count equals the injected mismatches and that output is byte-identical with one thread.
# Each figure is the best of RUNS runs (default 3), check and floor run in turn.
#
# Then a GitOps tree of GITOPS_N services (default 2000, `irsa-lint-gen --gitops`): Flux
# Kustomizations with post-build substitution and HelmReleases, terraform-aws-modules roles and
# templatefile() Helm values; measured and checked the same way, its check/floor ratio shown
# against the target of GITOPS_TARGET (default 1.5) times the floor, as the plan's below.
# GITOPS_N=0 leaves it out.
#
# Then a plan-only tree: a generated Terraform plan of PLAN_MB megabytes (default 50,
# `irsa-lint-gen --plan`) beside its ServiceAccounts, measured and checked the same way, and
# for peak RSS within PLAN_RSS_FACTOR (default 4) times the plan's size.
#
# Sizes are the bytes of the files (not of the folders holding them).
#
# --check compares each check/floor ratio with the figures last
# recorded in scripts/bench-figures.tsv and fails when one is more than 15% worse. The
# recorded ratios are measured again, by a build of the commit that recorded them (cached in
# target/bench-base) run in turn with this one: on a virtual machine the same build's ratio
# moved by a sixth from one hour to the next, as fresh memory came faster or slower, so a
# ratio is compared with the recorded build's at the same moment. Where that build cannot
# be made (no git history), with the recorded figures themselves.
# --record writes that file and regenerates the README's performance table from this run.
#
# Usage: scripts/bench.sh [--check | --record] [N]...        (default: 1000 10000)
# The scale run of issue 17 is `RUNS=1 scripts/bench.sh 1000 10000 100000` (302,001 files,
# 1.2 GB on disk while it runs; generated, never committed).
set -euo pipefail

cd "$(dirname "$0")/.."
mode=measure
case "${1:-}" in
    --check | --record) mode=${1#--}; shift ;;
esac
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
runs=${RUNS:-3}
figures=scripts/bench-figures.tsv

cargo build --release --quiet -p irsa-lint -p irsa-lint-dev
bin=$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The build of the commit that recorded the figures, for --check (empty when none).
base_bin=""
if [ "$mode" = check ] && recorded=$(git log -1 --format=%H -- "$figures" 2>/dev/null) &&
    [ -n "$recorded" ]; then
    base_target=$(pwd)/target/bench-base
    mkdir -p "$work/base-src"
    if git archive "$recorded" | tar -x -C "$work/base-src" &&
        CARGO_TARGET_DIR=$base_target cargo build --release --quiet -p irsa-lint \
            --manifest-path "$work/base-src/Cargo.toml"; then
        base_bin=$base_target/release/irsa-lint
        echo "recorded figures: ${recorded:0:12}, built to run in turn with this build"
    else
        echo "recorded figures: ${recorded:0:12} could not be built; compared as recorded" >&2
    fi
fi

# time_once CMD...: runs CMD once (output to $work/out); prints "seconds peak_kib". Wall time
# is taken in nanoseconds: /usr/bin/time rounds to 10 ms.
time_once() {
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || true
    end=$(date +%s%N)
    echo "$(awk -v ns=$((end - start)) 'BEGIN{printf "%.3f", ns / 1e9}') $(tail -n 1 "$work/time")"
}

# faster A B: whichever "seconds peak_kib" line is faster (A when B is empty).
faster() {
    if [ -z "$2" ] || awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN{exit !(a<b)}'; then
        echo "$1"
    else
        echo "$2"
    fi
}

# best_of CMD...: runs CMD $runs times (output to $work/out); prints the fastest run.
best_of() {
    local best=""
    for _ in $(seq "$runs"); do
        best=$(faster "$(time_once "$@")" "$best")
    done
    echo "$best"
}

status=0
printf '%-7s %7s %7s %9s %9s %7s %8s %9s %s\n' \
    N files MB check_s floor_s ratio RSS_MB findings checkov_s
# measure KEY TREE INJECTED: times check and the floor on TREE, prints and records the row
# (KEY first: the N of a plain tree, `gitops` for the GitOps one) and checks the findings
# count and the one-thread output.
measure() {
    local key=$1 tree=$2 injected=$3 files mb check_s check_kib floor_s floor_kib findings
    local checkov_s ratio
    files=$(find "$tree" -type f | wc -l)
    mb=$(find "$tree" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.1f", s / 1e6}')

    # check, the recorded build's check and the floor in turn, so that a noisy spell slows
    # them alike
    local best_check="" best_floor="" best_base=""
    for _ in $(seq "$runs"); do
        best_check=$(faster "$(cd "$tree" && time_once "$bin/irsa-lint" check --format compact --fail-on never .)" "$best_check")
        cp "$work/out" "$work/check-$key"
        if [ -n "$base_bin" ]; then
            best_base=$(faster "$(cd "$tree" && time_once "$base_bin" check --format compact --fail-on never .)" "$best_base")
        fi
        best_floor=$(faster "$(cd "$tree" && time_once "$bin/irsa-lint-parse-floor" .)" "$best_floor")
    done
    read -r check_s check_kib <<<"$best_check"
    read -r floor_s floor_kib <<<"$best_floor"
    if [ -n "$best_base" ]; then
        printf '%s\t%s\n' "$key" \
            "$(awk -v c="${best_base%% *}" -v f="$floor_s" 'BEGIN{printf "%.2f", (f > 0 ? c / f : 0)}')" \
            >>"$work/base-rows"
    fi
    findings=$(grep -c 'IRSA' "$work/check-$key" || true)
    (cd "$tree" && RAYON_NUM_THREADS=1 "$bin/irsa-lint" check --format compact --fail-on never .) \
        >"$work/check-$key-1thread"

    checkov_s=-
    if command -v checkov >/dev/null; then
        read -r checkov_s _ < <(runs=1 best_of checkov --quiet --compact -d "$tree")
    fi

    ratio=$(awk -v c="$check_s" -v f="$floor_s" 'BEGIN{printf "%.2f", (f > 0 ? c / f : 0)}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$files" "$mb" "$check_s" "$floor_s" \
        "$ratio" "$((check_kib / 1024))" "$findings" >>"$work/rows"
    printf '%-7s %7s %7s %9s %9s %7s %8s %9s %s\n' "$key" "$files" "$mb" "$check_s" \
        "$floor_s" "$ratio" "$((check_kib / 1024))" "$findings" "$checkov_s"
    [ "$checkov_s" = - ] ||
        awk -v c="$check_s" -v k="$checkov_s" 'BEGIN{printf "        checkov / check: %.0fx\n", k / c}'
    echo "        floor RSS: $((floor_kib / 1024)) MB"

    if [ "$findings" != "$injected" ]; then
        echo "FAIL: $key: $findings findings, $injected injected" >&2
        status=1
    fi
    if ! cmp -s "$work/check-$key" "$work/check-$key-1thread"; then
        echo "FAIL: $key: output differs between 1 thread and the default" >&2
        status=1
    fi
    last_ratio=$ratio
    last_check_s=$check_s
    last_check_kib=$check_kib
}

for n in "${sizes[@]}"; do
    tree="$work/tree-$n"
    injected=$("$bin/irsa-lint-gen" "$n" "$tree")
    measure "$n" "$tree" "$injected"
    echo "$n $last_check_s" >>"$work/times"
    rm -rf "$tree"
done
gitops_n=${GITOPS_N:-2000}
gitops_target=${GITOPS_TARGET:-1.5}
if [ "$gitops_n" -gt 0 ]; then
    tree="$work/gitops-tree"
    injected=$("$bin/irsa-lint-gen" --gitops "$gitops_n" "$tree")
    measure gitops "$tree" "$injected"
    echo "        $gitops_n services; check / floor ${last_ratio}x, target ${gitops_target}x: $(
        awk -v r="$last_ratio" -v t="$gitops_target" 'BEGIN{print (r <= t ? "met" : "NOT met")}')"
    printf '%s\n' "$gitops_n" >"$work/gitops-n"
    rm -rf "$tree"
fi
plan_mb=${PLAN_MB:-50}
plan_factor=${PLAN_RSS_FACTOR:-4}
tree="$work/plan-tree"
injected=$("$bin/irsa-lint-gen" --plan "$plan_mb" "$tree")
plan_bytes=$(stat -c %s "$tree/plan/plan.json")
measure plan "$tree" "$injected"
echo "        check / floor ${last_ratio}x, target ${gitops_target}x: $(
    awk -v r="$last_ratio" -v t="$gitops_target" 'BEGIN{print (r <= t ? "met" : "NOT met")}')"
echo "        peak RSS $(awk -v r="$last_check_kib" -v b="$plan_bytes" \
    'BEGIN{printf "%.1f", r * 1024 / b}')x the plan's $((plan_bytes / 1000000)) MB (limit ${plan_factor}x)"
if [ $((last_check_kib * 1024)) -gt $((plan_bytes * plan_factor)) ]; then
    echo "FAIL: plan: peak RSS is more than ${plan_factor}x the plan's size" >&2
    status=1
fi
rm -rf "$tree"

if [ "$(wc -l <"$work/times")" -ge 2 ]; then
    # Each step between sizes (e.g. 1,000 -> 10,000 -> 100,000): time grows about as the tree.
    awk 'NR > 1 {printf "time growth %d -> %d services (%dx): %.1fx\n", n0, $1, $1 / n0, $2 / t0}
         {n0 = $1; t0 = $2}' "$work/times"
fi
# Rows: N files MB check_s floor_s ratio RSS_MB findings. A ratio compares with the
# recorded build's of the same N measured now, else with the recorded one.
if [ "$mode" = check ]; then
    if [ ! -f "$figures" ]; then
        echo "FAIL: no recorded figures ($figures): run scripts/bench.sh --record first" >&2
        status=1
    elif ! awk -F '\t' -v limit=1.15 -v now="$work/base-rows" '
        BEGIN { while ((getline line < now) > 0) { split(line, f, "\t"); base[f[1]] = f[2] } }
        NR == FNR { recorded[$1] = $6; next }
        ($1 in recorded) && recorded[$1] > 0 {
            was = ($1 in base) ? base[$1] : recorded[$1]
            change = $6 / was
            if ($1 in base) {
                printf "%-6s ratio %s, recorded build now %s (%+.0f%%; recorded %s)\n", $1, $6, was, (change - 1) * 100, recorded[$1]
            } else {
                printf "%-6s ratio %s, recorded %s (%+.0f%%)\n", $1, $6, was, (change - 1) * 100
            }
            if (change > limit) { bad = 1; printf "FAIL: %s: ratio worse by more than 15%%\n", $1 > "/dev/stderr" }
        }
        END { exit bad }' "$figures" "$work/rows"; then
        status=1
    fi
fi
if [ "$mode" = record ] && [ $status = 0 ]; then
    cp "$work/rows" "$figures"
    {
        echo "| N services | files | MB | check | parse-only floor | check / floor | peak RSS (check) | findings |"
        echo "|-----------:|------:|---:|------:|-----------------:|--------------:|-----------------:|---------:|"
        awk -F '\t' -v gitops_n="$(cat "$work/gitops-n" 2>/dev/null || echo "${GITOPS_N:-2000}")" '
        function commas(n,   s) { s = n ""; while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); return s }
        $1 != "plan" && $1 != "gitops" {
            printf "| %s | %s | %s | %s s | %s s | %.2f× | %s MB | %s = injected |\n", commas($1), commas($2), $3, $4, $5, $6, $7, $8
        }
        $1 == "gitops" {
            printf "| GitOps, %s | %s | %s | %s s | %s s | %.2f× | %s MB | %s = injected |\n", commas(gitops_n), commas($2), $3, $4, $5, $6, $7, $8
        }
        $1 == "plan" {
            printf "| Terraform plan | %s | %s | %s s | %s s | %.2f× | %s MB | %s = injected |\n", commas($2), $3, $4, $5, $6, $7, $8
        }' "$figures"
    } >"$work/table"
    awk -v table="$work/table" '
        /<!-- bench-table:start -->/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
        /<!-- bench-table:end -->/ { skip = 0 }
        !skip' README.md >"$work/README.md"
    cp "$work/README.md" README.md
    echo "recorded $figures and the README's performance table"
fi
exit $status
