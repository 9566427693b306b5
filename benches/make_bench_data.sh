#!/usr/bin/env bash
# make_bench_data.sh - generate the benchmark BAM (+ .bai + .truth.json) for benches/.
#
# What it makes: a realistic, coordinate-sorted, indexed WGS-like BAM with an exact
# truth file, via shared/bench/make_seq_bench.py (see ../shared/bench/README.md):
#     $OUT/b2g.bam  $OUT/b2g.bam.bai  $OUT/b2g.truth.json
# A ~2 GB BAM takes ~7 min on 2 cores. Generation is skipped if the BAM and the
# truth file already exist (delete them to regenerate).
#
# Run (from anywhere):
#     benches/make_bench_data.sh                  # ~2 GB into bench-out/
#     TARGET_GB=0.2 benches/make_bench_data.sh    # smaller, for a quick try
#
# Environment:
#     SHARED     the shared/ dir (default: ../shared beside the repo root)
#     OUT        output dir (default: bench-out/ in the repo root; git-ignored)
#     TARGET_GB  target BAM size in GB (default 2)
#
# Needs: python3, samtools (apt-get install -y samtools).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${SHARED:-$REPO/../shared}"
OUT="${OUT:-$REPO/bench-out}"
TARGET_GB="${TARGET_GB:-2}"

command -v samtools >/dev/null || { echo "error: samtools not found (apt-get install -y samtools)" >&2; exit 1; }
[[ -f "$SHARED/bench/make_seq_bench.py" ]] || { echo "error: $SHARED/bench/make_seq_bench.py not found (set SHARED=)" >&2; exit 1; }

mkdir -p "$OUT"
if [[ -s "$OUT/b2g.bam" && -s "$OUT/b2g.truth.json" ]]; then
    echo "bench data exists, skipping: $OUT/b2g.bam ($(du -h "$OUT/b2g.bam" | cut -f1))"
    exit 0
fi

echo "generating $OUT/b2g.bam (target ${TARGET_GB} GB) ..."
python3 "$SHARED/bench/make_seq_bench.py" --out "$OUT/b2g" --target-gb "$TARGET_GB"
[[ -s "$OUT/b2g.bam.bai" ]] || samtools index -@2 "$OUT/b2g.bam"
echo "done: $OUT/b2g.bam ($(du -h "$OUT/b2g.bam" | cut -f1)), $OUT/b2g.truth.json"
