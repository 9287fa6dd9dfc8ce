#!/usr/bin/env bash
# Fuzz every target for a bounded time, with corpora seeded from fixtures/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain (`+nightly`, or set
# FUZZ_TOOLCHAIN to another; FUZZ_TOOLCHAIN= with RUSTC_BOOTSTRAP=1 uses the default one). Crashes are
# written to fuzz/artifacts/<target>/; each one becomes a test in
# tests/integration/robustness.rs once fixed. Prints executions and wall time per target.
# Leak detection is off: each lint() builds a rayon pool whose worker threads are still
# exiting when an input ends, which LeakSanitizer reports as a leak of their thread-local
# state (not a leak that grows: the threads end).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(hcl_eval hcl_structured yaml_manifests policy_json tf_json engine_tree)
fi

# LeakSanitizer also checks once more at exit; turn that off too (see above).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

seed() {
    local target="$1" dir="fuzz/corpus/$1"
    mkdir -p "$dir"
    case "$target" in
        hcl_eval) find fixtures -name '*.tf' -exec cp {} "$dir/" \; ;;
        hcl_structured) ;; # its inputs are decoded structures, not text
        yaml_manifests) find fixtures \( -name '*.yaml' -o -name '*.yml' \) -exec cp {} "$dir/" \; ;;
        tf_json) find fixtures -name '*.tf.json' -exec cp {} "$dir/" \; ;;
        policy_json)
            # Trust policies written as heredocs in the fixtures.
            local n=0
            for f in $(grep -rl 'assume_role_policy *= *<<' fixtures --include='*.tf'); do
                awk '/assume_role_policy *= *<</{p=1;next} p&&/^ *(EOF|EOT|POLICY)$/{exit} p' "$f" \
                    >"$dir/heredoc-$n.json"
                n=$((n + 1))
            done ;;
        engine_tree)
            # One seed per fixture project: its files joined with NUL bytes.
            local n=0
            for project in fixtures/*/*/; do
                find "$project" -type f \( -name '*.tf' -o -name '*.yaml' -o -name '*.json' \) \
                    | sort | head -7 | xargs -r -d '\n' awk 'FNR==1 && NR>1 {printf "\0"} {print}' \
                    >"$dir/project-$n"
                n=$((n + 1))
            done ;;
    esac
}

for target in "${targets[@]}"; do
    seed "$target"
    mkdir -p "fuzz/artifacts/$target"
    log="fuzz/artifacts/$target/run.log"
    # Built first, so that the time printed is fuzzing time only.
    cargo ${FUZZ_TOOLCHAIN-+nightly} fuzz build -O "$target"
    # The HCL targets get Terraform's functions, keywords and syntax as a dictionary.
    dict=()
    case "$target" in
        hcl_eval | hcl_structured) dict=(-dict=fuzz/dictionaries/terraform.dict) ;;
    esac
    start=$(date +%s)
    status=0
    cargo ${FUZZ_TOOLCHAIN-+nightly} fuzz run -O "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 \
        -detect_leaks=0 "${dict[@]}" \
        -artifact_prefix="fuzz/artifacts/$target/" >"$log" 2>&1 || status=$?
    end=$(date +%s)
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "$target: $runs executions in $((end - start)) s (exit $status)"
    if [ "$status" -ne 0 ]; then
        tail -40 "$log"
        exit "$status"
    fi
done
