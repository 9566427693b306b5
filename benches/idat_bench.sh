#!/usr/bin/env bash
# idat_bench.sh - agemark idat on SYNTHETIC 450K-sized IDAT pairs.
#
# Makes the IDATs once with benches/make_idat_bench.py (SYNTHETIC, NOT REAL: 622,399 addresses
# per file as a real 450K IDAT, addresses/designs of the bundled 450K manifest; ~1.6 GB for 100
# pairs), then times `agemark idat --threads THREADS` on all of them: parse, pOOBAH, noob, dye
# bias, betas for 485,577 probes per sample, and the gzip betas/detection tables. Prints wall
# seconds, seconds per sample (target < 0.5 on 2 threads), CPU seconds per sample and peak RSS
# (GNU time); writes
# bench-out/idat_bench.md; logs in bench-out/idat_bench/.
#
# Run (from anywhere), after `cargo build --release`:
#     benches/idat_bench.sh                  # SAMPLES=100 THREADS=2 RUNS=1
#     RUNS=3 benches/idat_bench.sh           # best of 3
#
# Needs: python3, /usr/bin/time (apt-get install -y time).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$REPO/bench-out}"
BIN="${BIN:-$REPO/target/release/agemark}"
SAMPLES="${SAMPLES:-100}"
THREADS="${THREADS:-2}"
RUNS="${RUNS:-1}"
LOGS="$OUT/idat_bench"
IDATS="$OUT/idat_bench_450k_$SAMPLES"
mkdir -p "$LOGS"
[[ -x "$BIN" ]] || { echo "error: $BIN not found: cargo build --release" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "error: /usr/bin/time not found (apt-get install -y time)" >&2; exit 1; }

if [[ ! -f "$IDATS/.complete" ]]; then
    echo "== making $SAMPLES SYNTHETIC 450K-sized IDAT pairs in $IDATS" >&2
    python3 "$REPO/benches/make_idat_bench.py" "$IDATS" --samples "$SAMPLES"
    touch "$IDATS/.complete"
fi

load() { awk '{ print $1 }' /proc/loadavg; }
load0="$(load)"
echo "== machine: $(nproc) cores; load before: $load0"
best_w="" best_r="" best_c=""
for ((i = 1; i <= RUNS; i++)); do
    /usr/bin/time -f "TIME %e %M %U %S" "$BIN" idat "$IDATS" -o "$LOGS/batch" --threads "$THREADS" \
        >"$LOGS/run$i.out" 2>"$LOGS/run$i.log" || { tail -5 "$LOGS/run$i.log" >&2; exit 1; }
    read -r w r c < <(awk '/^TIME/ { printf "%s %.0f %.2f\n", $2, $3 / 1024, $4 + $5 }' "$LOGS/run$i.log")
    echo "run $i: ${w} s, ${r} MB peak RSS, ${c} CPU s (load $(load))"
    if [[ -z "$best_w" ]] || awk -v a="$w" -v b="$best_w" 'BEGIN { exit !(a < b) }'; then
        best_w=$w
        best_r=$r
        best_c=$c
    fi
done
per=$(awk -v w="$best_w" -v n="$SAMPLES" 'BEGIN { printf "%.3f", w / n }')
cpu=$(awk -v c="$best_c" -v n="$SAMPLES" 'BEGIN { printf "%.3f", c / n }')
{
    echo "# IDAT benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, $THREADS threads, SYNTHETIC 450K-sized IDATs)"
    echo
    echo "| samples | wall s | s / sample | CPU s / sample | peak RSS MB | load before |"
    echo "|---|---|---|---|---|---|"
    echo "| $SAMPLES | $best_w | $per | $cpu | $best_r | $load0 |"
    echo
    awk -v p="$per" 'BEGIN { printf "target < 0.5 s/sample: %s\n", (p < 0.5 ? "met" : "NOT met") }'
} | tee "$OUT/idat_bench.md"
