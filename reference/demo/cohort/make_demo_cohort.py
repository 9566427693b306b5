#!/usr/bin/env python3
"""Makes the demo cohort (reference/demo/cohort/demo_betas.csv.gz and samplesheet.csv) from the
real matrices in tests/data/array, plus SYNTHETIC values where no real data exists. Standard
library only; run from the repository root (the output is the same bytes on every run):

    python3 reference/demo/cohort/make_demo_cohort.py

REAL rows, values copied unchanged as text (NA where a matrix lacks the CpG): the CpGs of the
demo clocks (DunedinPACE with its 20,000 gold-standard probes, Knight 2016 GA, the three
Lee 2019 placental clocks) and of the third-trimester placenta cell-type panel.
Columns: the 5 adult whole-blood samples of GSE55763 ("mothers"), the first 30 newborn
cord-blood samples of PROGRESS (in file order) and the 16 placentas of planet's 24 whose
`disease` is `normal/healthy` (in file order).

SYNTHETIC cells (made here, not measured; README.md says which): a cell of the blocks below
that no real matrix has for that sample (a real value is never replaced; the SNP block is all
synthetic):
  * cell-type panel CpGs: cord bloods get the IDOL cord-blood panel's CpGs, mothers the
    Reinius adult-blood panel's, each an in-silico mixture sum_k f_k * reference_k + N(0, 0.02)
    of the panel's own reference profiles at fractions drawn around a typical composition;
  * NR3C1 450K probes: promoter-island probes U(0.02, 0.10), the others N(0.75, 0.08), clipped;
  * Morin 2017 maternal-contamination CpGs (cord bloods): threshold x U(0.3, 0.8) (no
    contamination);
  * the 65 SNP probes: genotypes per participant (allele frequency U(0.2, 0.8) per SNP; a child
    inherits one allele from its mother), beta 0.08 / 0.50 / 0.92 by genotype + N(0, 0.03);
  * the exposure scores' CpGs (reference/scores; own random stream, so the blocks above are
    unchanged): cord bloods get the newborn scores' CpGs (Reese 2017, Provencal 2020 GES),
    mothers the adult scores' (Elliott 2014, Rauschert 2020, Stevenson 2021, Jung 2023,
    Gadd 2022): the score's reference beta where it has one (Elliott's never-smoker medians,
    the EpiScore's training means) + N(0, 0.03), else U(0.2, 0.8). Made-up values, so the
    scores they give are demo numbers only.
"""
import csv
import gzip
import io
import random

ADULT = "tests/data/array/gse55763_blood_5x20000_betas.csv"
ADULT_PHENO = "tests/data/array/gse55763_blood_5x20000_pheno.csv"
CORD = "tests/data/array/progress_cordblood_knight148_betas.csv"
CORD_PHENO = "tests/data/array/progress_cordblood_pheno.csv"
PLACENTA = "tests/data/array/planet_placenta_24x13918_betas.csv.gz"
PLACENTA_PHENO = "tests/data/array/planet_placenta_24_pheno.csv"
N_PLACENTA = 16
N_CORD = 30
OUT = "reference/demo/cohort/demo_betas.csv.gz"
SHEET = "reference/demo/cohort/samplesheet.csv"
SEED = 20261202
# Samples with SYNTHETIC whole-genome-like reads (agemark demo writes them; sex as the reads).
READS = {"DEMO-M01": "female", "DEMO-M02": "female", "DEMO-M03": "female",
         "DEMO-C01": "female", "DEMO-C02": "male", "DEMO-C03": "female"}
# Typical compositions the synthetic fractions are drawn around (cord blood: IDOL panel
# names; adult blood: Reinius panel names).
CORD_MIX = {"Gran": 0.45, "CD4T": 0.20, "CD8T": 0.10, "Bcell": 0.08, "Mono": 0.08,
            "NK": 0.04, "nRBC": 0.05}
ADULT_MIX = {"neutrophil": 0.60, "cd4_t_cell": 0.15, "cd8_t_cell": 0.08, "b_cell": 0.05,
             "nk_cell": 0.05, "monocyte": 0.07}


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


def score_cpgs(name):
    """(cpg, reference beta or None) of a bundled exposure score."""
    with open(f"reference/scores/{name}.csv") as f:
        rows = list(csv.reader(f))[1:]
    return [(r[0], float(r[2]) if len(r) > 2 and r[2] else None) for r in rows
            if r[0].startswith("cg")]


CORD_SCORES = ["reese2017_maternal_smoking", "provencal2020_ges"]
ADULT_SCORES = ["elliott2014_smoking", "rauschert2020_prenatal_smoking",
                "stevenson2021_dnam_il6", "jung2023_dnam_stress", "gadd2022_crp_episcore"]


def gold_cpgs():
    with gzip.open("reference/clocks/dunedinpace2022_gold_standard_means.csv.gz", "rt") as f:
        return {r[0] for r in list(csv.reader(f))[1:] if r[0].startswith("cg")}


def panel(name):
    with gzip.open(f"reference/celltypes/{name}.csv.gz", "rt") as f:
        rows = list(csv.reader(f))
    return rows[0][1:], {r[0]: [float(x) for x in r[1:]] for r in rows[1:]}


def nr3c1_probes():
    with open("reference/nr3c1/nr3c1_probes.tsv") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["on_450k"] == "True"]


def morin():
    with open("reference/qc/morin2017_thresholds.csv") as f:
        return [(r["cpg_id"], float(r["threshold_array_bmiq"])) for r in csv.DictReader(f)]


def snp_probes():
    with open("reference/qc/snp_probes_450k.txt") as f:
        return [l.strip() for l in f if l.startswith("rs")]


def pheno(path):
    with open(path) as f:
        return list(csv.DictReader(f))


wanted = (
    clock_cpgs("dunedinpace2022")
    | gold_cpgs()
    | clock_cpgs("knight2016_ga")
    | clock_cpgs("lee2019_rpc")
    | clock_cpgs("lee2019_cpc")
    | clock_cpgs("lee2019_rrpc")
    | set(panel("placenta_third_trimester")[1])
    | {p["probe_id"] for p in nr3c1_probes()}
    | {c for c, _ in morin()}
    | {c for n in CORD_SCORES + ADULT_SCORES for c, _ in score_cpgs(n)}
)

rng = random.Random(SEED)
adult_cols, adult = read(ADULT)
cord_cols, cord = read(CORD, N_CORD)
plac_ids = [r["sample_id"] for r in pheno(PLACENTA_PHENO) if r["disease"].startswith("normal")]
plac_cols, plac = read(PLACENTA, names=plac_ids[:N_PLACENTA])
cols = adult_cols + cord_cols + plac_cols
n_a, n_c = len(adult_cols), len(cord_cols)
kind = ["adult"] * n_a + ["cord"] * n_c + ["placenta"] * len(plac_cols)
real = {}
for c in sorted(c for c in wanted if c in adult or c in cord or c in plac):
    real[c] = (adult.get(c, ["NA"] * n_a) + cord.get(c, ["NA"] * n_c)
               + plac.get(c, ["NA"] * len(plac_cols)))

# The sheet: ids, families and participants (FICTIONAL linkage).
ages = {r["sample"]: r["age"] for r in pheno(ADULT_PHENO)}
ega = {r["sample_id"]: r["EGA_weeks"] for r in pheno(CORD_PHENO)}
pl = {r["sample_id"]: r for r in pheno(PLACENTA_PHENO)}
sheet = []
for i, c in enumerate(adult_cols, 1):
    sheet.append(dict(sample_id=f"DEMO-M{i:02d}", participant_id=f"FICTIONAL-P{i:03d}",
                      family_id=f"FICTIONAL-F{i:02d}", role="mother",
                      sample_type="maternal_blood", timepoint="delivery",
                      age_years=ages[c], gestational_age_weeks="", sex="", betas_column=c))
for i, c in enumerate(cord_cols, 1):
    sheet.append(dict(sample_id=f"DEMO-C{i:02d}", participant_id=f"FICTIONAL-P{100 + i:03d}",
                      family_id=f"FICTIONAL-F{i:02d}", role="child", sample_type="cord_blood",
                      timepoint="birth", age_years="0", gestational_age_weeks=ega[c], sex="",
                      betas_column=c))
for i, c in enumerate(plac_cols, 1):
    sheet.append(dict(sample_id=f"DEMO-PL{i:02d}", participant_id=f"FICTIONAL-P{200 + i:03d}",
                      family_id=f"FICTIONAL-F{40 + i:02d}", role="child", sample_type="placenta",
                      timepoint="birth", age_years="0",
                      gestational_age_weeks=pl[c]["gestation_wk"], sex=pl[c]["sex"].lower(),
                      betas_column=c))
for r in sheet:
    r["reads"] = f"reads/{r['sample_id']}.sam.gz" if r["sample_id"] in READS else ""
    if r["sample_id"] in READS:
        r["sex"] = READS[r["sample_id"]] if r["role"] == "child" else ""

synthetic = {}


def fill(cpg, j, value):
    """A synthetic value for sample j unless a real one exists."""
    if cpg in real and real[cpg][j] != "NA":
        return
    synthetic.setdefault(cpg, ["NA"] * len(cols))[j] = f"{min(max(value, 0.001), 0.999):.4f}"


def mixture(panel_name, mix, j):
    names, ref = panel(panel_name)
    f = [mix[n] * rng.lognormvariate(0, 0.25) for n in names]
    total = sum(f)
    f = [x / total for x in f]
    for cpg in sorted(ref):
        fill(cpg, j, sum(a * b for a, b in zip(f, ref[cpg])) + rng.gauss(0, 0.02))


for j, k in enumerate(kind):
    if k == "cord":
        mixture("cordblood_idol", CORD_MIX, j)
    elif k == "adult":
        mixture("blood_reinius450k", ADULT_MIX, j)
for j in range(len(cols)):
    for p in nr3c1_probes():
        island = p["cgi_relation"] == "Island"
        fill(p["probe_id"], j, rng.uniform(0.02, 0.10) if island else rng.gauss(0.75, 0.08))
for j, k in enumerate(kind):
    if k == "cord":
        for cpg, t in morin():
            fill(cpg, j, t * rng.uniform(0.3, 0.8))
# SNP probes: all synthetic (a real placenta's genotypes would not match its synthetic kin).
snps = snp_probes()
freq = [rng.uniform(0.2, 0.8) for _ in snps]
allele = lambda q: int(rng.random() < q)
geno = {}
for j, r in enumerate(sheet):
    if r["role"] == "mother":
        geno[r["family_id"]] = [(allele(q), allele(q)) for q in freq]
for j, r in enumerate(sheet):
    mother = geno.get(r["family_id"]) if r["role"] == "child" else None
    g = [(m[rng.randrange(2)] if mother else allele(q), allele(q))
         for q, m in zip(freq, mother or [(0, 0)] * len(freq))]
    if r["role"] == "mother":
        g = geno[r["family_id"]]
    for snp, (a, b) in zip(snps, g):
        synthetic.setdefault(snp, ["NA"] * len(cols))[j] = (
            f"{min(max((0.08, 0.50, 0.92)[a + b] + rng.gauss(0, 0.03), 0.001), 0.999):.4f}")
for snp in snps:
    real.pop(snp, None)
# Exposure-score CpGs, from their own stream (the blocks above keep their values).
srng = random.Random(SEED + 20)
for j, k in enumerate(kind):
    names = CORD_SCORES if k == "cord" else ADULT_SCORES if k == "adult" else []
    done = set()
    for n in names:
        for cpg, ref in score_cpgs(n):
            if cpg in done:
                continue
            done.add(cpg)
            fill(cpg, j, ref + srng.gauss(0, 0.03) if ref is not None else srng.uniform(0.2, 0.8))

rows = dict(real)
for cpg, vals in synthetic.items():
    base = rows.get(cpg, ["NA"] * len(cols))
    rows[cpg] = [s if s != "NA" else b for b, s in zip(base, vals)]
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
w.writerow(["cpg_id"] + cols)
for c in sorted(rows):
    w.writerow([c] + rows[c])
# mtime=0 and no file name in the gzip header: the same bytes on every run.
with open(OUT, "wb") as raw:
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue().encode())
fields = ["sample_id", "participant_id", "family_id", "role", "sample_type", "timepoint",
          "age_years", "gestational_age_weeks", "sex", "reads", "betas_column"]
with open(SHEET, "w", newline="") as f:
    sw = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
    sw.writeheader()
    sw.writerows(sheet)
n_syn = sum(v != "NA" for vals in synthetic.values() for v in vals)
print(f"{OUT}: {len(rows)} CpGs x {len(cols)} samples; {n_syn} SYNTHETIC cells")
print(f"{SHEET}: {len(sheet)} samples")
