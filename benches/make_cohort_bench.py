#!/usr/bin/env python3
"""SYNTHETIC 1,000-sample cohort for benches/cohort_bench.sh (issue 17): 500 mother-child
dyads, each sample with a small gzip FASTQ (synthetic reads, some telomeric) and a column of a
synthetic beta matrix. Nothing here is real data: the betas are resampled from the real demo
matrix's CpGs (reference/demo/cohort/demo_betas.csv.gz) with noise, so the CpG set and the
value ranges look like blood and cord blood, but no column is a person.

    make_cohort_bench.py OUTDIR [N_SAMPLES] [READS_PER_SAMPLE]

Writes OUTDIR/samplesheet.csv, OUTDIR/betas.csv.gz, OUTDIR/reads/<sample>.fq.gz. Seeded: the
same arguments give the same bytes.
"""
import csv
import gzip
import io
import os
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
reads_per = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
here = os.path.dirname(os.path.abspath(__file__))
demo = os.path.join(here, "..", "reference", "demo", "cohort", "demo_betas.csv.gz")
rng = random.Random(20261202)
os.makedirs(os.path.join(out, "reads"), exist_ok=True)

# Betas: per CpG, the real demo values; each synthetic column draws one of them plus noise.
with gzip.open(demo, "rt") as f:
    r = csv.reader(f)
    next(r)
    cpgs = []
    for row in r:
        vals = [float(v) for v in row[1:] if v not in ("", "NA")]
        if vals:
            cpgs.append((row[0], vals))

ids = []
for fam in range(1, n // 2 + 1):
    ids.append((f"SYN-M{fam:04d}", f"SYN-PM{fam:04d}", f"SYN-F{fam:04d}", "mother"))
    ids.append((f"SYN-C{fam:04d}", f"SYN-PC{fam:04d}", f"SYN-F{fam:04d}", "child"))
ids = ids[:n]

buf = io.StringIO()
buf.write("cpg," + ",".join(s for s, *_ in ids) + "\n")
for name, vals in cpgs:
    row = []
    for _ in ids:
        v = rng.choice(vals) + rng.gauss(0, 0.02)
        row.append(f"{min(1.0, max(0.0, v)):.4f}")
    buf.write(name + "," + ",".join(row) + "\n")
with gzip.open(os.path.join(out, "betas.csv.gz"), "wt", compresslevel=3) as f:
    f.write(buf.getvalue())

# Reads: 100 bp, random bases, ~2 % of reads carrying TTAGGG repeats (length varies per sample).
BASES = "ACGT"


def fastq(path, k):
    tel_frac = 0.005 + 0.03 * rng.random()
    with gzip.open(path, "wt", compresslevel=1) as f:
        for i in range(reads_per):
            if rng.random() < tel_frac:
                seq = ("TTAGGG" * 17)[: 100]
            else:
                seq = "".join(rng.choice(BASES) for _ in range(100))
            f.write(f"@{k}.{i}\n{seq}\n+\n{'I' * 100}\n")


with open(os.path.join(out, "samplesheet.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["sample_id", "participant_id", "family_id", "role", "sample_type", "timepoint",
                "age_years", "gestational_age_weeks", "reads", "betas_column"])
    for k, (sid, pid, fid, role) in enumerate(ids):
        fq = os.path.join("reads", f"{sid}.fq.gz")
        fastq(os.path.join(out, fq), sid)
        if role == "mother":
            w.writerow([sid, pid, fid, role, "maternal_blood", "delivery",
                        f"{rng.uniform(18, 45):.1f}", "", fq, sid])
        else:
            w.writerow([sid, pid, fid, role, "cord_blood", "birth", "0",
                        f"{rng.uniform(34, 42):.1f}", fq, sid])
print(f"{len(ids)} SYNTHETIC samples, {len(cpgs)} CpGs, {reads_per} reads each -> {out}")
