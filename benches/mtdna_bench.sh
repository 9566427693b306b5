#!/usr/bin/env bash
# mtdna_bench.sh - speed, memory and accuracy of agemark's mtDNA copy number on one BAM.
#
# On the same BAM in one run (file in the page cache first), each under /usr/bin/time:
#   (a) agemark reads BAM --threads $THREADS          telomere AND mtDNA on one decode (full mode)
#   (b) agemark mtdna --mode fast BAM                 index-based: chrM + 400 x 100 kb autosomal windows
#   (c) agemark mtdna --mosdepth-compat BAM           full mode, mosdepth -x rule (for the CN check)
#   (d) mosdepth -n --fast-mode -t $THREADS           peer: depth per contig (bases / length)
#   (e) telomerehunter2 -c $THREADS                   peer for the telomere half (SKIP_TH2=1 skips)
# Prints wall s, peak RSS and the ratios the issue sets targets for:
#   mosdepth / agemark reads   (target > 1: both stages together faster than mosdepth alone)
#   mosdepth / agemark fast    (target >= 10)
#   peak RSS of agemark reads  (target < 1 GB)
# and the copy numbers: truth file, mosdepth (bases/length), agemark full (-x rule), agemark
# fast (same rule) with its error against full mode (target: within 1 %).
# The report also goes to $OUT/mtdna_bench.md.
#
# Run:  benches/make_bench_data.sh; benches/mtdna_bench.sh       (SKIP_TH2=1 to leave out (e))
# Needs: cargo, python3, mosdepth + libhts-dev, GNU time (apt-get install -y mosdepth libhts-dev time)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$REPO/bench-out}"
BAM="${BAM:-$OUT/b2g.bam}"
TRUTH="${TRUTH:-${BAM%.bam}.truth.json}"
THREADS="${THREADS:-2}"
SKIP_TH2="${SKIP_TH2:-0}"
TH2="${TH2:-/opt/peers/venv/bin/telomerehunter2}"
AGEMARK="$REPO/target/release/agemark"
RUN_DIR="$OUT/mtdna_bench"
# shellcheck source=benches/bench_lib.sh
source "$REPO/benches/bench_lib.sh"

[[ -f "$BAM" ]] || die "$BAM not found: run benches/make_bench_data.sh first (or set BAM=)"
command -v mosdepth >/dev/null || die "mosdepth not found (apt-get install -y mosdepth libhts-dev)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install -y time)"
if [[ "$SKIP_TH2" != 1 && ! -x "$TH2" ]]; then die "$TH2 not found (or set SKIP_TH2=1)"; fi

echo "== building agemark (release)"
(cd "$REPO" && cargo build --release --quiet)
rm -rf "$RUN_DIR"; mkdir -p "$RUN_DIR"
echo "== warming the page cache: $BAM"
cat "$BAM" > /dev/null

timed reads "$AGEMARK" reads "$BAM" -o "$RUN_DIR/reads" --threads "$THREADS"
timed fast "$AGEMARK" mtdna --mode fast --mosdepth-compat "$BAM" -o "$RUN_DIR/fast" --threads "$THREADS"
timed full_x "$AGEMARK" mtdna --mosdepth-compat "$BAM" -o "$RUN_DIR/full_x" --threads "$THREADS"
timed mosdepth mosdepth -n --fast-mode -t "$THREADS" "$RUN_DIR/md" "$BAM"
if [[ "$SKIP_TH2" != 1 ]]; then
    timed telomerehunter2 "$TH2" -ibt "$BAM" -p th2 -o "$RUN_DIR/th2" -b hg38 -pno -c "$THREADS"
fi

python3 - "$RUN_DIR" "$TRUTH" "$OUT/mtdna_bench.md" <<'PY'
import csv, json, os, re, sys
run_dir, truth_path, md_path = sys.argv[1:]
t = {}
for line in open(os.path.join(run_dir, 'times.txt')):
    name, wall, rss, user, sys_, busy = line.split()
    t[name] = dict(wall=float(wall), rss=int(rss) / 1024, cpu=float(user) + float(sys_), others=float(busy))

def value(path, measure):
    for r in csv.DictReader(open(path), delimiter='\t'):
        if r['measure'] == measure and r['read_group'] == '':
            return float(r['value']) if r['value'] else float('nan')
    raise KeyError(measure)

md = {}
for line in open(os.path.join(run_dir, 'md.mosdepth.summary.txt')):
    f = line.rstrip('\n').split('\t')
    if f[0] in ('chrom', 'total') or f[0].endswith('_region'):
        continue
    md[f[0]] = (int(f[1]), int(float(f[2])))
auto = [v for k, v in md.items() if re.fullmatch(r'(chr)?([1-9]|1[0-9]|2[0-2])', k)]
mito = md.get('chrM') or md.get('MT')
md_cn = 2 * (mito[1] / mito[0]) / (sum(b for _, b in auto) / sum(l for l, _ in auto))
full = value(os.path.join(run_dir, 'full_x.mtdna.tsv'), 'mtdna_cn')
fast = value(os.path.join(run_dir, 'fast.mtdna.tsv'), 'mtdna_cn')
frac = value(os.path.join(run_dir, 'fast.mtdna.tsv'), 'autosomal_sampled_fraction')
reads_cn = value(os.path.join(run_dir, 'reads.mtdna.tsv'), 'mtdna_cn')
truth = None
if os.path.exists(truth_path):
    e = json.load(open(truth_path))['expected']
    truth = next(v for k, v in e.items() if k.startswith('mtDNA_CN_mosdepth_like'))

o = []
p = o.append
p('# agemark mtDNA copy-number benchmark\n')
p("| run | wall s | peak RSS MB | CPU s | other processes' CPU s during the run |")
p('|---|---:|---:|---:|---:|')
labels = {'reads': 'agemark reads (telomere + mtDNA, one decode)', 'fast': 'agemark mtdna --mode fast',
          'full_x': 'agemark mtdna --mosdepth-compat (full)', 'mosdepth': 'mosdepth -n --fast-mode',
          'telomerehunter2': 'telomerehunter2'}
for k, lab in labels.items():
    if k in t:
        r = t[k]
        p(f"| {lab} | {r['wall']:.2f} | {r['rss']:.0f} | {r['cpu']:.1f} | {r['others']:.1f} |")
p('')
p(f"- mosdepth / agemark reads: **{t['mosdepth']['wall'] / t['reads']['wall']:.2f}x** (target > 1)")
p(f"- mosdepth / agemark fast mode: **{t['mosdepth']['wall'] / t['fast']['wall']:.1f}x** (target >= 10)")
p(f"- agemark reads peak RSS: **{t['reads']['rss']:.0f} MB** (target < 1024)")
if 'telomerehunter2' in t:
    p(f"- telomerehunter2 / agemark reads (which also does mtDNA): **{t['telomerehunter2']['wall'] / t['reads']['wall']:.1f}x**")
p('\n| mtDNA-CN | value |')
p('|---|---:|')
if truth is not None:
    p(f'| truth file (mosdepth-like) | {truth:.6f} |')
p(f'| mosdepth -x, bases/length | {md_cn:.6f} |')
p(f'| agemark full, --mosdepth-compat | {full:.6f} |')
p(f'| agemark fast, --mosdepth-compat ({100 * frac:.2f}% of autosomal bases sampled) | {fast:.6f} |')
p(f'| agemark reads (default M/=/X rule) | {reads_cn:.6f} |')
p(f'\nFast vs full: **{100 * (fast - full) / full:+.3f}%** (target within 1%).')
if max(r['others'] for r in t.values()) > 1.0:
    p('\nWARNING: other processes used CPU during a run: rerun when the machine is quiet.')
text = '\n'.join(o) + '\n'
print(text)
open(md_path, 'w').write(text)
PY
