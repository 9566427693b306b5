#!/usr/bin/env bash
# telomere_bench.sh - speed, memory and agreement of `agemark telomere` on one BAM.
#
# What it measures, on the same BAM in one run (file read once beforehand, so every tool
# starts with it in the page cache):
#   (a) agemark telomere BAM -o ... --threads $THREADS     the tool under test
#   (b) samtools view -c -@$THREADS BAM                    decode baseline (BGZF inflate + record walk)
#   (c) telomerehunter2 -ibt BAM -b hg38 -pno -c $THREADS  peer tool (skip with SKIP_TH2=1; ~2 min on 2 GB)
# each under `/usr/bin/time` (wall seconds, peak RSS, CPU seconds), and prints:
#   * a table: wall s, peak RSS MB, MB/s of compressed input (file bytes / 1e6 / wall s), CPU s,
#     and the CPU s other processes used meanwhile (a concurrent build skews the numbers);
#   * ratios: samtools/agemark wall (target >= 1: agemark at least as fast as the decode
#     baseline) and telomerehunter2/agemark wall (target >= 10);
#   * agreement: agemark's numbers next to the truth file written by make_seq_bench.py and next
#     to telomerehunter2's summary (reads, threshold, intratelomeric reads, telomere content).
# The report also goes to $OUT/telomere_bench.md.
#
# Run (from anywhere):
#     benches/make_bench_data.sh          # once: ~2 GB BAM + truth in bench-out/ (~7 min)
#     benches/telomere_bench.sh           # ~3 min with telomerehunter2, ~1 min without
#     SKIP_TH2=1 RUNS=3 benches/telomere_bench.sh   # faster; best of 3 for (a) and (b)
#     BAM=other.bam TRUTH=other.truth.json benches/telomere_bench.sh
#
# Environment:
#     BAM       input (default $OUT/b2g.bam); TRUTH (default BAM with .truth.json; optional)
#     OUT       output dir (default bench-out/ in the repo root; git-ignored)
#     THREADS   threads for every tool (default 2)
#     RUNS      repetitions of (a) and (b); the fastest is reported (default 1)
#     SKIP_TH2  1 = do not run telomerehunter2
#     TH2       telomerehunter2 executable (default /opt/peers/venv/bin/telomerehunter2)
#
# Needs: cargo, python3, samtools (apt-get install -y samtools), GNU time (apt-get install -y
# time), and for (c) telomerehunter2 1.0.12:
#     python3 -m venv /opt/peers/venv && /opt/peers/venv/bin/pip install telomerehunter2==1.0.12
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$REPO/bench-out}"
BAM="${BAM:-$OUT/b2g.bam}"
TRUTH="${TRUTH:-${BAM%.bam}.truth.json}"
THREADS="${THREADS:-2}"
RUNS="${RUNS:-1}"
SKIP_TH2="${SKIP_TH2:-0}"
TH2="${TH2:-/opt/peers/venv/bin/telomerehunter2}"
AGEMARK="$REPO/target/release/agemark"
RUN_DIR="$OUT/telomere_bench"          # raw outputs: timings, logs, each tool's results
# shellcheck source=benches/bench_lib.sh
source "$REPO/benches/bench_lib.sh"

[[ -f "$BAM" ]] || die "$BAM not found: run benches/make_bench_data.sh first (or set BAM=)"
command -v samtools >/dev/null || die "samtools not found (apt-get install -y samtools)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install -y time)"
command -v python3 >/dev/null || die "python3 not found"
if [[ "$SKIP_TH2" != 1 && ! -x "$TH2" ]]; then
    die "$TH2 not found: install telomerehunter2 (see the top of this script) or set SKIP_TH2=1"
fi

echo "== building agemark (release)"
(cd "$REPO" && cargo build --release --quiet)

rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
echo "== warming the page cache: $BAM ($(du -h "$BAM" | cut -f1))"
cat "$BAM" > /dev/null

for ((run = 1; run <= RUNS; run++)); do
    timed agemark "$AGEMARK" telomere "$BAM" -o "$RUN_DIR/agemark/bench" --threads "$THREADS"
    timed samtools samtools view -c -@"$THREADS" "$BAM"
done
if [[ "$SKIP_TH2" != 1 ]]; then
    timed telomerehunter2 "$TH2" -ibt "$BAM" -p th2 -o "$RUN_DIR/th2" -b hg38 -pno -c "$THREADS"
fi

# ---------------------------------------------------------------- report
python3 - "$BAM" "$TRUTH" "$RUN_DIR" "$THREADS" "$OUT/telomere_bench.md" <<'PY'
import csv, json, os, sys

bam, truth_path, run_dir, threads, md_path = sys.argv[1:]
size = os.path.getsize(bam)

# Fastest run of each tool.
best = {}
for line in open(os.path.join(run_dir, 'times.txt')):
    name, wall, rss, user, sys_, others = line.split()
    row = dict(wall=float(wall), rss=int(rss) / 1024, cpu=float(user) + float(sys_), others=float(others))
    if name not in best or row['wall'] < best[name]['wall']:
        best[name] = row

out = []
p = out.append
p(f"# agemark telomere benchmark\n")
p(f"Input: `{os.path.basename(bam)}`, {size / 1e9:.3f} GB compressed; {threads} threads for every tool; "
  f"file in the page cache. MB = 10^6 bytes of compressed input.\n")
p("| tool | wall s | peak RSS MB | MB/s | CPU s | other processes' CPU s during the run |")
p("|---|---:|---:|---:|---:|---:|")
label = {'agemark': f'agemark telomere --threads {threads}', 'samtools': f'samtools view -c -@{threads}',
         'telomerehunter2': f'telomerehunter2 -c {threads}'}
for name in ('agemark', 'samtools', 'telomerehunter2'):
    if name in best:
        b = best[name]
        p(f"| {label[name]} | {b['wall']:.2f} | {b['rss']:.0f} | {size / 1e6 / b['wall']:.0f} | {b['cpu']:.1f} | {b['others']:.1f} |")
p("")
a = best['agemark']['wall']
s = best['samtools']['wall']
p(f"- samtools / agemark wall: **{s / a:.2f}x** (target >= 1: agemark at least as fast as the decode baseline)")
p(f"- agemark throughput: **{size / 1e6 / a:.0f} MB/s** (stretch target 400 MB/s)")
if 'telomerehunter2' in best:
    t = best['telomerehunter2']['wall']
    p(f"- telomerehunter2 / agemark wall: **{t / a:.1f}x** (target >= 10)")
if any(b['others'] > 0.05 * b['wall'] for b in best.values()):
    p("- WARNING: other processes used the CPU during a run (a build?): its timing is unreliable; "
      "rerun when the machine is quiet")
p("")

# agemark's sample-level rows (no read group).
ag = {}
with open(os.path.join(run_dir, 'agemark', 'bench.telomere.tsv')) as fh:
    for r in csv.DictReader(fh, delimiter='\t'):
        if not r['read_group']:
            ag[r['measure']] = float(r['value'])
truth = json.load(open(truth_path)) if os.path.exists(truth_path) else {}
th = {}
th_summary = os.path.join(run_dir, 'th2', 'th2', 'th2_summary.tsv')
if os.path.exists(th_summary):
    with open(th_summary) as fh:
        th = next(csv.DictReader(fh, delimiter='\t'))

def fmt(v):
    if v is None or v == '':
        return '-'
    v = float(v)
    return f"{v:,.0f}" if v == int(v) else f"{v:,.3f}"

by_class = truth.get('tel_ge7_primary_by_class', {})
p("## Agreement\n")
p("| quantity | truth | agemark | telomerehunter2 |")
p("|---|---:|---:|---:|")
rows = [
    ("primary reads (TelSeq total)", truth.get('primary_reads'), ag.get('reads_total'), None),
    ("TelSeq reads with >= 7 TTAGGG/CCCTAA, primary", truth.get('tel_ge7_primary'), ag.get('telseq_reads_ge_k'), None),
    ("  of which unmapped (truth)", truth.get('tel_ge7_primary_unmapped'), None, None),
    ("TelomereHunter reads considered", truth.get('primary_reads'), ag.get('th_reads_total'), th.get('total_reads')),
    ("TelomereHunter repeat threshold", None, ag.get('th_repeat_threshold'), th.get('repeat_threshold_used')),
    ("TelomereHunter telomeric reads", None, ag.get('th_telomeric_reads'), th.get('tel_read_count')),
    ("intratelomeric reads", truth.get('tel_ge7_primary'), ag.get('th_intratelomeric_reads'), th.get('intratelomeric_reads')),
    ("junction-spanning reads", None, ag.get('th_junction_spanning_reads'), th.get('junctionspanning_reads')),
    ("subtelomeric reads", None, ag.get('th_subtelomeric_reads'), th.get('subtelomeric_reads')),
    ("intrachromosomal reads", None, ag.get('th_intrachromosomal_reads'), th.get('intrachromosomal_reads')),
    ("reads with 48-52 % GC", None, ag.get('th_reads_gc_48_52'), th.get('total_reads_with_tel_gc')),
    ("telomere content (intratel. per M GC reads)", None, ag.get('th_telomere_content'), th.get('tel_content')),
]
for q, t_, a_, h_ in rows:
    p(f"| {q} | {fmt(t_)} | {fmt(a_)} | {fmt(h_)} |")
p("")
if by_class:
    p("Truth, primary reads with >= 7 TTAGGG by simulated class: "
      + ", ".join(f"{k} {v:,}" for k, v in sorted(by_class.items())) + ".")
    p("Every telomeric class is unmapped or MAPQ 0, so TelomereHunter should call nearly all of them "
      "intratelomeric; its own threshold (6 per 100 bp, any of 6 repeat types) differs from TelSeq's "
      "(>= 7 TTAGGG), so 'truth' in the intratelomeric row is approximate.")

text = "\n".join(out) + "\n"
print("\n" + text)
with open(md_path, 'w') as fh:
    fh.write(text)
print(f"written to {md_path}")
PY
