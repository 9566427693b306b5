#!/usr/bin/env bash
# Long-read throughput (issue 16) on a SYNTHETIC modBAM of >= 1 GB (benches/make_longread_bench.py,
# seeded): agemark pileup (fixed threshold: one pass; estimated: two passes), agemark telomere
# --long-reads, and in the same run the peers: pysam 0.24.1 decoding every read's MM/ML
# (AlignedSegment.modified_bases) and telometer 2.0.3 on the same BAM. Prints wall s, peak RSS,
# reads/s and MB/s of BAM, and the ratios; writes bench-out/longread_bench.md.
#
# Needs samtools, GNU time and a Python with pysam and telometer (PY=, default telometer's CI venv).
#   GIGABASES=2.5 THREADS=2 benches/longread_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GIGABASES="${GIGABASES:-2.5}"
THREADS="${THREADS:-2}"
PY="${PY:-$HOME/.cache/agemark-peers/telometer-venv/bin/python}"
BIN="${BIN:-target/release/agemark}"
OUT=bench-out
RUN_DIR="$OUT/longread_bench"
mkdir -p "$RUN_DIR"
: > "$RUN_DIR/times.txt"
# shellcheck source=benches/bench_lib.sh
source benches/bench_lib.sh
[[ -x "$BIN" ]] || cargo build --release --locked
BAM="$OUT/longreads.bam"
REF="$OUT/longreads_ref.fa"
if [[ ! -s "$BAM" ]]; then
    echo "== making $BAM ($GIGABASES Gb of SYNTHETIC long reads)"
    python3 benches/make_longread_bench.py "$REF" --gigabases "$GIGABASES" |
        samtools view -b -@"$THREADS" -o "$BAM.tmp" - && mv "$BAM.tmp" "$BAM"
fi
BYTES="$(stat -c %s "$BAM")"
READS="$(samtools view -c -@"$THREADS" "$BAM")"
echo "$BAM: $BYTES bytes, $READS reads"

# SKIP_PYSAM=1 leaves out the slowest peer (pysam builds a Python tuple per call).
timed agemark_pileup_fixed "$BIN" --threads "$THREADS" pileup "$BAM" -r "$REF" --mod-threshold 0.5 -o "$RUN_DIR/fixed"
timed agemark_pileup_estimated "$BIN" --threads "$THREADS" pileup "$BAM" -r "$REF" -o "$RUN_DIR/estimated"
timed agemark_telomere_long "$BIN" --threads "$THREADS" telomere "$BAM" --long-reads -o "$RUN_DIR/telomere"
cat > "$RUN_DIR/pysam_decode.py" <<'PY'
import sys, pysam
n = calls = 0
with pysam.AlignmentFile(sys.argv[1], "rb", threads=int(sys.argv[2])) as b:
    for r in b.fetch(until_eof=True):
        n += 1
        for v in (r.modified_bases or {}).values():
            calls += len(v)
print(n, calls)
PY
[[ -n "${SKIP_PYSAM:-}" ]] || timed pysam_decode "$PY" "$RUN_DIR/pysam_decode.py" "$BAM" "$THREADS"
TELOMETER="$(dirname "$PY")/telometer"
timed telometer "$TELOMETER" -b "$BAM" -o "$RUN_DIR/telometer.tsv" -t "$THREADS"

awk -v bytes="$BYTES" -v reads="$READS" '
    { wall[$1] = $2; rss[$1] = $3 }
    END {
        printf "| run | wall s | peak RSS MB | reads/s | MB/s |\n|---|---|---|---|---|\n"
        for (k in wall) printf "| %s | %.1f | %.0f | %.0f | %.1f |\n", k, wall[k], rss[k] / 1024, reads / wall[k], bytes / 1e6 / wall[k]
        if ("pysam_decode" in wall) printf "\npysam decode / agemark pileup (fixed): %.2fx", wall["pysam_decode"] / wall["agemark_pileup_fixed"]
        printf "\ntelometer / agemark telomere --long-reads: %.2fx\n", wall["telometer"] / wall["agemark_telomere_long"]
    }' "$RUN_DIR/times.txt" | tee "$OUT/longread_bench.md"
[[ -n "${SKIP_PYSAM:-}" ]] || echo "pysam: $(cat "$RUN_DIR/pysam_decode.out") (reads, calls)" | tee -a "$OUT/longread_bench.md"
