#!/usr/bin/env python3
"""Makes the demo cohort's beta matrix (reference/demo/cohort/demo_betas.csv.gz) from the real
matrices in tests/data/array. Standard library only; run from the repository root:

    python3 reference/demo/cohort/make_demo_cohort.py

Rows: the CpGs of the demo clocks, DunedinPACE (dunedinpace2022, 173 CpGs, plus the
20,000 gold-standard probes it normalises against), Knight 2016 gestational age
(knight2016_ga, 148 CpGs) and the three Lee 2019 placental clocks (lee2019_rpc/cpc/rrpc), the
CpGs of the third-trimester placenta cell-type panel (reference/celltypes) and the NR3C1 probes
(reference/nr3c1), that any of the matrices has, sorted.
Columns: the 5 adult whole-blood samples of GSE55763 (all of them), the first 10 newborn
cord-blood samples of PROGRESS (in file order) and the first 5 placentas of planet's 24 whose
`disease` is `normal/healthy` (in file order). Values are copied unchanged as text; a CpG a matrix does
not have is NA for its samples.
"""
import csv
import gzip
import io

ADULT = "tests/data/array/gse55763_blood_5x20000_betas.csv"
CORD = "tests/data/array/progress_cordblood_knight148_betas.csv"
PLACENTA = "tests/data/array/planet_placenta_24x13918_betas.csv.gz"
PLACENTA_PHENO = "tests/data/array/planet_placenta_24_pheno.csv"
N_PLACENTA = 5
OUT = "reference/demo/cohort/demo_betas.csv.gz"
N_CORD = 10


def clock_cpgs(name):
    with open(f"reference/clocks/{name}.csv") as f:
        return {r[0] for r in list(csv.reader(f))[1:] if r[0].startswith("cg")}


def read(path, ncols=None, names=None):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        rows = list(csv.reader(f))
    header = rows[0][1:]
    if names is not None:
        keep = [header.index(n) for n in names]
    else:
        keep = range(len(header)) if ncols is None else range(ncols)
    data = {r[0]: [r[1 + i] for i in keep] for r in rows[1:]}
    return [header[i] for i in keep], data


def gold_cpgs():
    with gzip.open("reference/clocks/dunedinpace2022_gold_standard_means.csv.gz", "rt") as f:
        return {r[0] for r in list(csv.reader(f))[1:] if r[0].startswith("cg")}


def panel_cpgs(name):
    with gzip.open(f"reference/celltypes/{name}.csv.gz", "rt") as f:
        return {r[0] for r in list(csv.reader(f))[1:]}


def nr3c1_probes():
    with open("reference/nr3c1/nr3c1_probes.tsv") as f:
        return {r[0] for r in list(csv.reader(f, delimiter="\t"))[1:]}


def normal_placentas(n):
    with open(PLACENTA_PHENO) as f:
        return [r["sample_id"] for r in csv.DictReader(f) if r["disease"].startswith("normal")][:n]


# DunedinPACE normalises against its 20,000 gold-standard probes and needs 80% of them.
wanted = (
    clock_cpgs("dunedinpace2022")
    | gold_cpgs()
    | clock_cpgs("knight2016_ga")
    | clock_cpgs("lee2019_rpc")
    | clock_cpgs("lee2019_cpc")
    | clock_cpgs("lee2019_rrpc")
    | panel_cpgs("placenta_third_trimester")
    | nr3c1_probes()
)
adult_cols, adult = read(ADULT)
cord_cols, cord = read(CORD, N_CORD)
plac_cols, plac = read(PLACENTA, names=normal_placentas(N_PLACENTA))
cpgs = sorted(c for c in wanted if c in adult or c in cord or c in plac)
# mtime=0 and no file name in the gzip header: the same bytes on every run.
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
w.writerow(["cpg_id"] + adult_cols + cord_cols + plac_cols)
for c in cpgs:
    w.writerow(
        [c]
        + adult.get(c, ["NA"] * len(adult_cols))
        + cord.get(c, ["NA"] * len(cord_cols))
        + plac.get(c, ["NA"] * len(plac_cols))
    )
with open(OUT, "wb") as raw:
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue().encode())
print(f"{OUT}: {len(cpgs)} CpGs x {len(adult_cols) + len(cord_cols) + len(plac_cols)} samples")
print("placentas:", ",".join(plac_cols))
