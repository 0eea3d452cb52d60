#!/usr/bin/env bash
# Runs every libFuzzer target for a while, each on a scratch copy of its seed corpus.
#
#   scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]
#
# BUILD_DIR is a build of the 'fuzz' preset (cmake --preset fuzz && cmake --build --preset fuzz), SECONDS the
# time each target runs. With TARGET names (request_head, chunked, ...) only those run. The seed corpus
# fuzz/corpus/NAME/ of target fuzz_NAME is copied into a temporary directory first, so the repository's corpus
# is never modified; set FUZZ_KEEP=1 to keep the temporary directories (and the inputs found) afterwards.
#
# Exits 0 when no target crashed. Otherwise prints each crash's reproducer and exits 1; run the target on the
# reproducer to see the failure again:  BUILD_DIR/fuzz/fuzz_NAME path/to/crash-...
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
    exit 2
fi
build_dir=$1
seconds=$2
shift 2
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -eq 0 ]]; then
    echo "fuzz.sh: SECONDS must be a positive whole number, not '$seconds'" >&2
    exit 2
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir=$build_dir/fuzz
if [[ ! -d $bin_dir ]]; then
    echo "fuzz.sh: $bin_dir does not exist; build with: cmake --preset fuzz && cmake --build --preset fuzz" >&2
    exit 2
fi

# The longest input each target is given: room for its limits (the harnesses use small ones) and no more,
# since longer inputs only slow the search down.
max_len_of() {
    case $1 in
        request_head) echo 4096 ;;
        chunked) echo 4096 ;;
        urlencoded) echo 1024 ;;
        cookies) echo 1024 ;;
        route_pattern) echo 256 ;;
        app) echo 8192 ;;
        typed) echo 2048 ;;
        *) echo 4096 ;;
    esac
}

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=()
    for bin in "$bin_dir"/fuzz_*; do
        [[ -f $bin && -x $bin ]] && targets+=("${bin##*/fuzz_}")
    done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "fuzz.sh: no fuzz_* executables in $bin_dir" >&2
    exit 2
fi

failed=()
start=$SECONDS
for name in "${targets[@]}"; do
    bin=$bin_dir/fuzz_$name
    if [[ ! -x $bin ]]; then
        echo "fuzz.sh: no executable $bin" >&2
        failed+=("$name (missing)")
        continue
    fi
    work=$(mktemp -d -t "zephyr-fuzz-$name.XXXXXX")
    mkdir -p "$work/corpus" "$work/artifacts"
    if [[ -d $repo/fuzz/corpus/$name ]]; then
        cp -R "$repo/fuzz/corpus/$name/." "$work/corpus/"
    fi
    args=(-max_total_time="$seconds" -max_len="$(max_len_of "$name")" -timeout=10 -rss_limit_mb=2048
          -artifact_prefix="$work/artifacts/" -print_final_stats=1)
    if [[ -f $repo/fuzz/dict/$name.dict ]]; then
        args+=(-dict="$repo/fuzz/dict/$name.dict")
    elif [[ $name == request_head || $name == chunked || $name == app ]]; then
        args+=(-dict="$repo/fuzz/dict/http.dict")
    fi

    echo "== fuzz_$name: ${seconds}s, max_len $(max_len_of "$name")"
    status=0
    "$bin" "${args[@]}" "$work/corpus" >"$work/log" 2>&1 || status=$?
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::peak_rss_mb)' "$work/log" || true

    shopt -s nullglob
    artifacts=("$work"/artifacts/*)
    shopt -u nullglob
    if [[ $status -ne 0 || ${#artifacts[@]} -gt 0 ]]; then
        echo "!! fuzz_$name failed (exit status $status); the end of its log:"
        tail -n 40 "$work/log" | sed 's/^/   /'
        for a in "${artifacts[@]}"; do
            echo "!! reproducer: $a"
            echo "   rerun with: $bin $a"
        done
        failed+=("$name")
        echo "   (kept $work)"
    elif [[ ${FUZZ_KEEP:-0} == 1 ]]; then
        echo "   (kept $work)"
    else
        rm -rf "$work"
    fi
done

echo "== ${#targets[@]} targets in $((SECONDS - start))s"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "no crashes"
