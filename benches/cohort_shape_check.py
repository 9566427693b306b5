#!/usr/bin/env python3
"""The issue-13 "214-sample shape" check on REAL data from ../shared (FICTIONAL linkage).

Builds one beta matrix from the real cord bloods (PROGRESS, 148), term and preterm placentas
(planet, 24) and adult bloods (GSE55763, 5); adds the two real HM27 IDAT samples and the five
real read files of reference/demo as further samples (214 rows in all), links them into
mother-child families (the linkage is invented: the people are unrelated), runs `agemark run`
and checks, printing the figures:

  * no clock outside its training domain is computed by default;
  * cell types pair across panels in cohort.dyads.tsv (cord-blood panel vs adult panel, by their
    canonical Cell Ontology labels), and sum_of_fractions never pairs;
  * every warn/fail row of every table has a qc_note;
  * cohort.sample_qc.tsv has a sex row for each IDAT sample and a maternal_contamination row
    for every cord blood that has methylation data (not computed on these subsets: the matrix
    lacks Morin's CpGs, which the rows say).

Usage: benches/cohort_shape_check.py AGEMARK_BINARY SHARED_DATA_DIR WORK_DIR
Exit 0 when every check holds.
"""

import csv
import gzip
import os
import subprocess
import sys

agemark, shared, work = sys.argv[1:4]
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.makedirs(work, exist_ok=True)


def read_matrix(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        rows = list(csv.reader(f))
    return rows[0][1:], {r[0]: r[1:] for r in rows[1:]}


sources = [
    ("cord", f"{shared}/cordblood/progress_cordblood_knight148_betas.csv"),
    ("plac", f"{shared}/array/betas/planet_placenta_24x13918_betas.csv.gz"),
    ("adult", f"{shared}/array/betas/gse55763_blood_5x20000_betas.csv"),
]
columns, data = [], []
for tag, path in sources:
    cols, rows = read_matrix(path)
    columns.append((tag, cols))
    data.append(rows)
cpgs = sorted(set().union(*[set(d) for d in data]))
matrix = os.path.join(work, "shape_betas.csv")
with open(matrix, "w") as f:
    header = ["probe_id"] + [f"{t}_{c}" for t, cols in columns for c in cols]
    f.write(",".join(header) + "\n")
    for cpg in cpgs:
        cells = [cpg]
        for (t, cols), rows in zip(columns, data):
            cells.extend(rows.get(cpg, ["NA"] * len(cols)))
        f.write(",".join(cells) + "\n")

ga = {r["sample_id"]: r["EGA_weeks"] for r in csv.DictReader(open(f"{shared}/cordblood/progress_cordblood_pheno.csv"))}
pl = {r["sample_id"]: r for r in csv.DictReader(open(f"{shared}/array/betas/planet_placenta_24_pheno.csv"))}
ad = {r["sample"]: r for r in csv.DictReader(open(f"{shared}/array/betas/gse55763_blood_5x20000_pheno.csv"))}

sheet_rows = []
cords = columns[0][1]
for i, c in enumerate(cords):
    fam = f"F{i + 1:03d}"
    sheet_rows.append(dict(sample_id=f"C{i + 1:03d}", participant_id=f"PC{i + 1:03d}", family_id=fam,
                           role="child", sample_type="cord_blood", gestational_age_weeks=ga.get(c, ""),
                           betas_column=f"cord_{c}"))
for i, c in enumerate(columns[1][1]):
    r = pl[c]
    sheet_rows.append(dict(sample_id=f"PL{i + 1:03d}", participant_id=f"PC{i + 1:03d}", family_id=f"F{i + 1:03d}",
                           role="child", sample_type="placenta", gestational_age_weeks=r["gestation_wk"],
                           sex={"Male": "M", "Female": "F"}.get(r["sex"], ""), betas_column=f"plac_{c}"))
for i, c in enumerate(columns[2][1]):
    r = ad[c]
    sheet_rows.append(dict(sample_id=f"M{i + 1:03d}", participant_id=f"PM{i + 1:03d}", family_id=f"F{i + 1:03d}",
                           role="mother", sample_type="maternal_blood", age_years=r["age"], betas_column=f"adult_{c}"))
idat = f"{repo}/tests/data/array/hm27_idat"
for i, p in enumerate(["4207113116_A", "4207113116_B"]):
    sheet_rows.append(dict(sample_id=f"I{i + 1:03d}", participant_id=f"PI{i + 1:03d}", family_id=f"F{200 + i}",
                           role="mother", sample_type="maternal_blood", sex="F", age_years="35", idat=f"{idat}/{p}"))
demo = f"{repo}/reference/demo"
for i, f in enumerate(["HG03478_MT.bam", "computel_DRR016840_telreads.bam", "telseq_test3_ERS037288_chr1tel.bam",
                       "adam_interleaved_telomeric_250bp.ifq.fq"]):
    sheet_rows.append(dict(sample_id=f"R{i + 1:03d}", participant_id=f"PR{i + 1:03d}", family_id=f"F{300 + i}",
                           role="other", sample_type="whole_blood", reads=f"{demo}/{f}"))
cols = ["sample_id", "participant_id", "family_id", "role", "sample_type", "age_years",
        "gestational_age_weeks", "sex", "reads", "idat", "betas_column"]
sheet = os.path.join(work, "shape_sheet.csv")
with open(sheet, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=cols)
    w.writeheader()
    for r in sheet_rows:
        w.writerow({k: r.get(k, "") for k in cols})
n = len(sheet_rows)
out = os.path.join(work, "out")
subprocess.run(["rm", "-rf", out], check=True)
run = subprocess.run([agemark, "run", "--samplesheet", sheet, "--betas", matrix, "--outdir", out, "-q"],
                     capture_output=True, text=True)
print(f"agemark run on {n} samples ({len(cords)} cord bloods, {len(columns[1][1])} placentas, "
      f"{len(columns[2][1])} adult bloods in one {len(cpgs)}-CpG matrix, 2 IDAT samples, 4 read samples): exit {run.returncode}")
if run.returncode not in (0, 1):
    print(run.stderr)
    sys.exit(1)

failed = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed.append(what)


long = list(csv.DictReader(open(f"{out}/cohort.long.tsv"), delimiter="\t"))
domains = {r["clock"]: r for r in csv.DictReader(open(f"{repo}/reference/clocks/applicability.tsv"), delimiter="\t")}
outside = 0
clock_rows = 0
for r in long:
    if r["assay"] != "clocks":
        continue
    clock = next((c for c in sorted(domains, key=len, reverse=True) if r["measure"] == c or r["measure"].startswith(c + "_")), None)
    if clock is None:
        continue
    clock_rows += 1
    if r["sample_type"] not in domains[clock]["sample_types"].split(","):
        outside += 1
check(outside == 0, f"no clock outside its training domain ({clock_rows} clock rows, {outside} outside)")

dyads = list(csv.DictReader(open(f"{out}/cohort.dyads.tsv"), delimiter="\t"))
cell_pairs = [d for d in dyads if d["assay"] == "celltypes"]
measures = sorted({d["measure"] for d in cell_pairs})
computed = {(r["sample_type"]) for r in long if r["assay"] == "celltypes" and r["value"]}
if {"cord_blood", "maternal_blood"} <= computed:
    check(len(cell_pairs) > 0 and "sum_of_fractions" not in measures,
          f"cell types pair across panels in dyads: {len(cell_pairs)} pairs over {measures}")
else:
    # The shared matrices are subsets without the panels' CpGs: say so instead of passing.
    print(f"n/a  cell types across panels: fractions computed only for {sorted(computed)} "
          f"(the real cord-blood and adult matrices here lack the panels' CpGs); "
          f"{len(cell_pairs)} cell-type pairs, sum_of_fractions never paired")
    check("sum_of_fractions" not in measures, "sum_of_fractions is never paired")
check(not any(d["assay"] in ("sample_qc", "identity", "maternal_contamination") for d in dyads),
      "no QC measure is paired in dyads")

missing_notes = 0
tables = 0
for root, _, files in os.walk(out):
    for f in files:
        if not f.endswith(".tsv") or f in ("failures.tsv", "run_manifest.tsv") or "dyads" in f or "columns" in f or "wide" in f:
            continue
        rows = list(csv.DictReader(open(os.path.join(root, f)), delimiter="\t"))
        if not rows or "qc_status" not in rows[0]:
            continue
        tables += 1
        missing_notes += sum(1 for r in rows if r["qc_status"] in ("warn", "fail") and not r.get("qc_note"))
check(missing_notes == 0, f"every warn/fail row has a qc_note ({tables} tables, {missing_notes} without)")

qc = list(csv.DictReader(open(f"{out}/cohort.sample_qc.tsv"), delimiter="\t"))
sex = [r for r in qc if r["check"] == "sex"]
check(len(sex) == 2 and all(r["qc_status"] == "pass" for r in sex), f"sex checked for the 2 IDAT samples: {[r['qc_status'] for r in sex]}")
ident = [r for r in long if r["assay"] == "maternal_contamination"]
check(len(ident) == len(cords), f"maternal contamination looked at for all {len(cords)} cord bloods "
      f"({sum(1 for r in ident if r['value'])} computed; the subset matrices lack Morin's CpGs)")
print(f"sample_qc rows: {len(qc)}; long rows: {len(long)}")
sys.exit(1 if failed else 0)
