#!/usr/bin/env bash
# clocks_bench.sh - agemark clocks vs biolearn on a SYNTHETIC 850,000-CpG beta matrix.
#
# Makes the matrices once with benches/make_clock_matrix.py (SYNTHETIC values; ~2.2 GB for 200
# samples, ~11 GB for 1,000), then in one run times:
#   * agemark clocks (all 20 bundled clocks) at 200 samples, and at each of SCALE_SAMPLES;
#   * biolearn 0.9.1 (the 15 clocks it shares with agemark + its Bohlin: 16 clocks) at 200
#     samples, reading the same CSV with pandas as a user would (SKIP_BIOLEARN=1 skips it).
# Prints wall seconds, peak RSS (GNU time), the ratio biolearn/agemark (target >= 20) and
# writes bench-out/clocks_bench.md; raw logs in bench-out/clocks_bench/.
#
# Run (from anywhere), after `cargo build --release`:
#     benches/clocks_bench.sh
#     SCALE_SAMPLES="500 1000" benches/clocks_bench.sh     # scaling runs (default: 1000)
#     RUNS=3 benches/clocks_bench.sh                         # best of 3 for agemark
#
# Needs: python3; /usr/bin/time (apt-get install -y time); biolearn in a venv
# (BIOLEARN_PYTHON, default ~/.cache/agemark-peers/biolearn-venv/bin/python, as .ci/run makes it).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$REPO/bench-out}"
BIN="${BIN:-$REPO/target/release/agemark}"
RUNS="${RUNS:-1}"
SCALE_SAMPLES="${SCALE_SAMPLES:-1000}"
BIOLEARN_PYTHON="${BIOLEARN_PYTHON:-$HOME/.cache/agemark-peers/biolearn-venv/bin/python}"
LOGS="$OUT/clocks_bench"
mkdir -p "$LOGS"
[[ -x "$BIN" ]] || { echo "error: $BIN not found: cargo build --release" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "error: /usr/bin/time not found (apt-get install -y time)" >&2; exit 1; }

matrix() { # samples -> path (made once)
    local p="$OUT/clocks_850k_$1.csv"
    if [[ ! -s "$p" ]]; then
        echo "== making $p (SYNTHETIC, 850,000 CpGs x $1 samples)" >&2
        python3 "$REPO/benches/make_clock_matrix.py" "$p.tmp" --samples "$1" && mv "$p.tmp" "$p"
    fi
    echo "$p"
}

# timed NAME CMD... -> "wall_s rss_mb" from GNU time; the log keeps everything.
timed() {
    local name="$1"
    shift
    /usr/bin/time -f "TIME %e %M" "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.log"
    awk '/^TIME/ { printf "%s %.0f\n", $2, $3 / 1024 }' "$LOGS/$name.log"
}

best() { # NAME RUNS CMD... -> best wall of RUNS runs (and its RSS)
    local name="$1" runs="$2"
    shift 2
    local best_w="" best_r=""
    for ((i = 1; i <= runs; i++)); do
        read -r w r < <(timed "$name" "$@")
        if [[ -z "$best_w" ]] || awk -v a="$w" -v b="$best_w" 'BEGIN { exit !(a < b) }'; then
            best_w=$w
            best_r=$r
        fi
    done
    echo "$best_w $best_r"
}

load() { awk '{ print $1 }' /proc/loadavg; }

m200="$(matrix 200)"
echo "== machine: $(nproc) cores; load before: $(load)"
read -r aw ar < <(best agemark_200 "$RUNS" "$BIN" clocks "$m200" -o "$LOGS/agemark_200" --clocks all)
echo "agemark clocks, 20 clocks, 200 samples: ${aw} s, ${ar} MB peak RSS (load $(load))"

bw="" br=""
if [[ "${SKIP_BIOLEARN:-0}" != 1 ]]; then
    [[ -x "$BIOLEARN_PYTHON" ]] || { echo "error: $BIOLEARN_PYTHON not found (SKIP_BIOLEARN=1 to skip)" >&2; exit 1; }
    cat >"$LOGS/biolearn_clocks.py" <<'PY'
import sys, warnings
import pandas as pd
from biolearn.model_gallery import ModelGallery
from biolearn.data_library import GeoData
models = ["Horvathv1", "Hannum", "PhenoAge", "Horvathv2", "DunedinPACE", "Lin", "Weidner", "PEDBE",
          "Knight", "Mayne", "LeeRobust", "LeeControl", "LeeRefinedRobust", "DNAmTL", "Zhang_10", "Bohlin"]
dnam = pd.read_csv(sys.argv[1], index_col=0)
geo = GeoData(pd.DataFrame(index=dnam.columns), dnam)
gallery = ModelGallery()
out = []
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for m in models:
        out.append(gallery.get(m).predict(geo)["Predicted"].rename(m))
pd.concat(out, axis=1).to_csv(sys.argv[2], sep="\t")
PY
    read -r bw br < <(timed biolearn_200 "$BIOLEARN_PYTHON" "$LOGS/biolearn_clocks.py" "$m200" "$LOGS/biolearn_200.tsv")
    echo "biolearn 0.9.1, 16 clocks, 200 samples: ${bw} s, ${br} MB peak RSS (load $(load))"
fi

scale_rows=""
for n in $SCALE_SAMPLES; do
    mn="$(matrix "$n")"
    read -r sw sr < <(best "agemark_$n" "$RUNS" "$BIN" clocks "$mn" -o "$LOGS/agemark_$n" --clocks all)
    echo "agemark clocks, 20 clocks, $n samples: ${sw} s, ${sr} MB peak RSS (load $(load))"
    scale_rows+="| agemark, 20 clocks | $n | $sw | $sr |"$'\n'
done

{
    echo "# clocks benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, SYNTHETIC 850,000-CpG matrices)"
    echo
    echo "| tool | samples | wall s | peak RSS MB |"
    echo "|---|---|---|---|"
    echo "| agemark, 20 clocks | 200 | $aw | $ar |"
    [[ -n "$bw" ]] && echo "| biolearn 0.9.1, 16 clocks | 200 | $bw | $br |"
    printf "%s" "$scale_rows"
    if [[ -n "$bw" ]]; then
        echo
        awk -v b="$bw" -v a="$aw" 'BEGIN { printf "biolearn / agemark wall time: %.1fx (target >= 20x)\n", b / a }'
    fi
} | tee "$OUT/clocks_bench.md"
