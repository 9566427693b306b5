#!/usr/bin/env python3
"""Makes the demo cohort's beta matrix (reference/demo/cohort/demo_betas.csv.gz) from the real
matrices in tests/data/array. Standard library only; run from the repository root:

    python3 reference/demo/cohort/make_demo_cohort.py

Rows: the CpGs of the two demo clocks, DunedinPACE (dunedinpace2022, 173 CpGs, plus the
20,000 gold-standard probes it normalises against) and Knight 2016 gestational age
(knight2016_ga, 148 CpGs), that either matrix has, sorted.
Columns: the 5 adult whole-blood samples of GSE55763 (all of them) and the first 10 newborn
cord-blood samples of PROGRESS (in file order). Values are copied unchanged as text; a CpG a
matrix does not have is NA for its samples.
"""
import csv
import gzip
import io

ADULT = "tests/data/array/gse55763_blood_5x20000_betas.csv"
CORD = "tests/data/array/progress_cordblood_knight148_betas.csv"
OUT = "reference/demo/cohort/demo_betas.csv.gz"
N_CORD = 10


def clock_cpgs(name):
    with open(f"reference/clocks/{name}.csv") as f:
        return {r[0] for r in list(csv.reader(f))[1:] if r[0].startswith("cg")}


def read(path, ncols=None):
    with open(path) as f:
        rows = list(csv.reader(f))
    header = rows[0][1:]
    keep = range(len(header)) if ncols is None else range(ncols)
    data = {r[0]: [r[1 + i] for i in keep] for r in rows[1:]}
    return [header[i] for i in keep], data


def gold_cpgs():
    with gzip.open("reference/clocks/dunedinpace2022_gold_standard_means.csv.gz", "rt") as f:
        return {r[0] for r in list(csv.reader(f))[1:] if r[0].startswith("cg")}


# DunedinPACE normalises against its 20,000 gold-standard probes and needs 80% of them.
wanted = clock_cpgs("dunedinpace2022") | gold_cpgs() | clock_cpgs("knight2016_ga")
adult_cols, adult = read(ADULT)
cord_cols, cord = read(CORD, N_CORD)
cpgs = sorted(c for c in wanted if c in adult or c in cord)
# mtime=0 and no file name in the gzip header: the same bytes on every run.
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
w.writerow(["cpg_id"] + adult_cols + cord_cols)
for c in cpgs:
    w.writerow([c] + adult.get(c, ["NA"] * len(adult_cols)) + cord.get(c, ["NA"] * len(cord_cols)))
with open(OUT, "wb") as raw:
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue().encode())
print(f"{OUT}: {len(cpgs)} CpGs x {len(adult_cols) + len(cord_cols)} samples")
