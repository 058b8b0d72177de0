#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time, seeded with the
# repository's fixtures; fails if any target finds a crash, a panic, a
# timeout or runs out of memory. CI calls it after the tests.
#
#   fuzz/run.sh [seconds per target, default 30] [target...]
#
# Only stable Rust is needed: RUSTC_BOOTSTRAP=1 lets it accept the nightly
# flags cargo-fuzz passes. Targets are built without a sanitizer: the code
# they reach is safe Rust (the workspace denies `unsafe_code`), so ASan
# would only halve the speed. A crash leaves its input in
# fuzz/artifacts/<target>/; replay it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run -s none <target> <file>
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)

secs=${1:-30}
shift || true
all=(x12_envelope ndjson_pager config_load schema_compat)
targets=("${@:-${all[@]}}")

export RUSTC_BOOTSTRAP=1
cargo_fuzz_version=0.13.2
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz $cargo_fuzz_version"
    cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi

# Copies stdin into corpus directory $1, named by its hash as libFuzzer
# names what it adds (identical fixtures collapse into one seed).
add() {
    local tmp=$1/.new
    cat >"$tmp"
    mv "$tmp" "$1/$(sha1sum <"$tmp" | cut -c1-40)"
}

# Seed corpora, rebuilt from the fixtures on every run so that a CI run is
# bounded and starts from the same place. corpus/ is not committed.
seed() {
    local target=$1
    local dir=corpus/$target
    rm -rf "$dir"
    mkdir -p "$dir"
    case $target in
        x12_envelope)
            local f
            while IFS= read -r f; do
                add "$dir" <"$f"
            done < <(find "$root/fixtures" "$root"/plugins/*/fixtures -name '*.edi')
            ;;
        ndjson_pager)
            # Header: page lines - 1, line cap (u16 LE), chunking seed.
            local f
            while IFS= read -r f; do
                { printf '\x01\x00\x04\x07'; cat "$f"; } | add "$dir"
                { printf '\x00\x50\x00\x2a'; cat "$f"; } | add "$dir"
            done < <(find "$root/fixtures" "$root"/plugins/*/fixtures -name '*.ndjson')
            ;;
        config_load)
            local f
            for f in "$root/waybill.example.toml" seeds/config_load/*; do
                add "$dir" <"$f"
            done
            ;;
        schema_compat)
            # Every canonical schema against every other (and itself), so
            # the seeds hold both compatible minors and every kind of
            # breaking change: NUL separates the older from the newer.
            local a b
            for a in "$root"/schemas/*/*.json; do
                for b in "$root"/schemas/*/*.json; do
                    { cat "$a"; printf '\0'; cat "$b"; } | add "$dir"
                done
            done
            ;;
    esac
}

echo "== building fuzz targets"
cargo fuzz build -s none

failed=()
summary=()
for target in "${targets[@]}"; do
    seed "$target"
    seeds=$(find "corpus/$target" -type f | wc -l)
    dict=()
    if [[ -f dicts/$target.dict ]]; then
        dict=(-dict="dicts/$target.dict")
    fi
    echo "== fuzzing $target for ${secs}s ($seeds seeds)"
    log=corpus/$target.log
    status=0
    cargo fuzz run -s none "$target" "corpus/$target" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${dict[@]}" >"$log" 2>&1 || status=$?
    if [[ $status -ne 0 ]]; then
        # The panic message, the backtrace and the artifact's name (long
        # lines are the input dumped as bytes).
        grep -v '^#[0-9]' "$log" | cut -c1-400 | tail -n 60 >&2
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    corpus=$(find "corpus/$target" -type f | wc -l)
    summary+=("$(printf '%-14s %10s runs %8s exec/s  corpus %4s -> %4s' \
        "$target" "${execs:-?}" "${speed:-?}" "$seeds" "$corpus")")
    if [[ $status -ne 0 ]]; then
        failed+=("$target")
    fi
done

echo "== fuzz summary (${secs}s per target)"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzzing found crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
