#!/usr/bin/env bash
# report_bench.sh - the report budget of issue 14 on a 1,000-sample SYNTHETIC cohort.
#
#   benches/report_bench.sh          COPIES=20 (20 x the demo's 51 samples = 1,020 samples)
#
# Runs `agemark demo`, then makes a SYNTHETIC long table of COPIES x the demo cohort (sample,
# participant and family ids suffixed per copy, every value jittered by a seeded +-2 %:
# benches/make_report_bench.py), renders it with `agemark report`, and measures:
#   * the size of report.html (budget: <= 3 MB at 1,000 samples);
#   * headless Chromium's wall time to load and screenshot the report, minus the same for an
#     empty page (budget: <= 2 s on 2 cores), median of 3;
# and keeps a screenshot of the top of each section in bench-out/report_bench/.
# Writes bench-out/report_bench.md; copies the screenshots to bench-out/ci-artefacts/ too.
# Needs python3 and chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/agemark}
COPIES=${COPIES:-20}
OUT=bench-out/report_bench
CHROMIUM=${AGEMARK_CHROMIUM:-chromium}
rm -rf "$OUT" && mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "$BIN missing: cargo build --release" >&2; exit 2; }
"$BIN" demo --outdir "$OUT/demo" >/dev/null 2>"$OUT/demo.log"
python3 benches/make_report_bench.py "$OUT/demo/cohort/cohort.long.tsv" "$OUT/cohort" "$COPIES"
"$BIN" report "$OUT/cohort" -o "$OUT/report.html" 2>"$OUT/report.log"
samples=$(cut -f1 "$OUT/cohort/cohort.long.tsv" | tail -n +2 | sort -u | wc -l)
bytes=$(stat -c %s "$OUT/report.html")
echo '<!DOCTYPE html><html><body></body></html>' > "$OUT/empty.html"
shot() { # file, png, height -> wall seconds
    local t0 t1
    t0=$(date +%s.%N)
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$OUT/chromium-profile" --window-size=1400,"$3" \
        --screenshot="$2" "file://$PWD/$1" >/dev/null 2>&1
    t1=$(date +%s.%N)
    python3 -c "print($t1 - $t0)"
}
shot "$OUT/empty.html" "$OUT/empty.png" 800 >/dev/null # warm-up
times=()
for _ in 1 2 3; do
    e=$(shot "$OUT/empty.html" "$OUT/empty.png" 800)
    r=$(shot "$OUT/report.html" "$OUT/report_top.png" 1300)
    times+=("$(python3 -c "print($r - $e)")")
done
median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 2p)
shot "$OUT/report.html" "$OUT/report_full.png" 9000 >/dev/null
{
    echo "# Report budget (benches/report_bench.sh)"
    echo
    echo "| samples | report.html | budget | Chromium render (median of 3, minus an empty page) | budget |"
    echo "|---|---|---|---|---|"
    printf '| %s | %.2f MB | 3 MB | %.2f s | 2 s |\n' "$samples" "$(python3 -c "print($bytes / 1e6)")" "$median"
    echo
    echo "Screenshots: $OUT/report_top.png, $OUT/report_full.png (1,400 px wide)."
} > bench-out/report_bench.md
mkdir -p bench-out/ci-artefacts/report-1000
cp "$OUT"/report_top.png "$OUT"/report_full.png bench-out/report_bench.md bench-out/ci-artefacts/report-1000/
cat bench-out/report_bench.md
