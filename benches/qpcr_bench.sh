#!/usr/bin/env bash
# qpcr_bench.sh - `agemark qpcr` on cohort-sized SYNTHETIC plate sets: does it scale linearly?
#
#   benches/qpcr_bench.sh            PLATES="40 120 360" (2,360 / 7,080 / 21,240 samples)
#
# Makes PLATES 384-well plain plates (benches/make_qpcr_bench.py: TEL and 36B4 standard
# curves, an inter-run calibrator and unknowns in triplicate on every plate), runs
# `agemark qpcr --config bench.conf` on each set and prints wall s, peak RSS, wells per second
# and each set's seconds per well relative to the smallest set (1.0 = linear). No peer tool
# computes the same thing (standard curves, inter-run calibration and QC flags per plate); the
# peer checks of `qpcr` are correctness tests (tests/suite/peers_qpcr.rs).
# Writes bench-out/qpcr_bench.md. Needs python3 and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/agemark}
PLATES=${PLATES:-40 120 360}
RUN_DIR=$PWD/bench-out/qpcr_bench
# shellcheck source=benches/bench_lib.sh
. benches/bench_lib.sh
[ -x "$BIN" ] || die "$BIN missing: cargo build --release"
BIN=$(realpath "$BIN")
rm -rf "$RUN_DIR" && mkdir -p "$RUN_DIR"
: > "$RUN_DIR/times.txt"
for n in $PLATES; do
    python3 benches/make_qpcr_bench.py "$RUN_DIR/p$n" "$n" > /dev/null
    (cd "$RUN_DIR/p$n" && timed "p$n" "$BIN" qpcr --config bench.conf -o out -q)
done
{
    echo "# qPCR scaling (benches/qpcr_bench.sh, SYNTHETIC plates)"
    echo
    echo "| plates | samples | wells | wall s | peak RSS MB | wells/s | s per well vs smallest (1.0 = linear) | other CPU s |"
    echo "|---|---|---|---|---|---|---|---|"
    base=""
    for n in $PLATES; do
        wells=$(($(wc -l < "$RUN_DIR/p$n/out.qpcr_wells.tsv") - 1))
        samples=$(tail -n +2 "$RUN_DIR/p$n/out.qpcr.tsv" | cut -f1 | sort -u | wc -l)
        read -r _ wall rss _ _ others < <(grep "^p$n " "$RUN_DIR/times.txt")
        per=$(python3 -c "print($wall / $wells)")
        [ -n "$base" ] || base=$per
        python3 -c "print('| $n | $samples | $wells | %.2f | %.0f | %.0f | %.2f | $others |' % ($wall, $rss / 1024, $wells / max($wall, 0.01), $per / $base))"
    done
} > bench-out/qpcr_bench.md
cat bench-out/qpcr_bench.md
