#!/usr/bin/env bash
# Runs every cargo-fuzz target under fuzz/ for a set time, one target at a time, and reports per
# target the runs executed, the corpus size and the crashes found (with their artifact paths).
# Not run by CI. Exits 1 if any target crashed (or failed to build), 0 otherwise.
#
#   bench/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS is the run time of each target (default 600); TARGETs default to every target that
# `cargo fuzz list` names. Environment:
#   FUZZ_SANITIZER   address (default) or none: passed to `cargo fuzz --sanitizer`
#   FUZZ_UNIT_TIMEOUT  seconds one input may take before libFuzzer calls it a hang (default 30)
#   FUZZ_RSS_LIMIT_MB  memory limit of the fuzzing process (default 2048, libFuzzer's)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). libFuzzer and the sanitizers need nightly
# features: the script sets RUSTC_BOOTSTRAP=1 so that a stable toolchain builds them.
# Corpora grow in fuzz/corpus/<target>/ (seeded from fuzz/seeds/<target>/ when that exists),
# crashing inputs land in fuzz/artifacts/<target>/, each run's log in fuzz/target/fuzz-logs/.
# Replay a crash with `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <artifact>` in fuzz/.
set -uo pipefail

seconds=${1:-600}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: $0 [SECONDS] [TARGET...]" >&2
    exit 2
fi
shift $(($# > 0 ? 1 : 0))

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_dir=$root/fuzz
sanitizer=${FUZZ_SANITIZER:-address}
unit_timeout=${FUZZ_UNIT_TIMEOUT:-30}
rss_limit=${FUZZ_RSS_LIMIT_MB:-2048}
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
    exit 2
fi
cd "$fuzz_dir" || exit 2

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi
if [ ${#targets[@]} -eq 0 ]; then
    echo "no fuzz targets found in $fuzz_dir" >&2
    exit 2
fi

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit+dirty"
fi
log_dir=$fuzz_dir/target/fuzz-logs
mkdir -p "$log_dir"

# Artifacts libFuzzer writes for a failing input.
list_artifacts() {
    find "$fuzz_dir/artifacts/$1" -maxdepth 1 -type f \
        \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
        2>/dev/null | sort
}

failed=0
rows=()
for target in "${targets[@]}"; do
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    log=$log_dir/$target-$stamp.log
    echo "== $target: building (sanitizer $sanitizer)" >&2
    if ! cargo fuzz build -O --sanitizer "$sanitizer" "$target" >"$log" 2>&1; then
        echo "   build failed, see $log" >&2
        rows+=("$target|-|-|-|build failed ($log)")
        failed=1
        continue
    fi
    corpus=$fuzz_dir/corpus/$target
    mkdir -p "$corpus" "$fuzz_dir/artifacts/$target"
    seeds=()
    [ -d "$fuzz_dir/seeds/$target" ] && seeds=("$fuzz_dir/seeds/$target")
    before=$(list_artifacts "$target")
    echo "== $target: fuzzing for ${seconds}s on $commit (log $log)" >&2
    started=$(date +%s)
    # One process (no -jobs/-workers): the development machine is shared.
    cargo fuzz run -O --sanitizer "$sanitizer" "$target" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$seconds" -timeout="$unit_timeout" -rss_limit_mb="$rss_limit" \
        -print_final_stats=1 >>"$log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - started))
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    units=$(find "$corpus" -maxdepth 1 -type f | wc -l)
    new=$(comm -13 <(echo "$before") <(list_artifacts "$target") | sed '/^$/d')
    if [ -n "$new" ]; then
        result="CRASH: $(echo "$new" | paste -sd " " -)"
        failed=1
    elif [ $rc -ne 0 ]; then
        result="failed (exit $rc, no artifact; see $log)"
        failed=1
    else
        result="ok"
    fi
    rows+=("$target|${elapsed}s|${runs:-?}|$units|$result")
    echo "   $result" >&2
done

echo
echo "fuzz run on $commit, ${seconds}s per target, sanitizer $sanitizer"
printf '%-16s %8s %14s %8s  %s\n' target time runs corpus result
for row in "${rows[@]}"; do
    IFS='|' read -r t time runs units result <<<"$row"
    printf '%-16s %8s %14s %8s  %s\n' "$t" "$time" "$runs" "$units" "$result"
done
exit $failed
