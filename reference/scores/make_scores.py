#!/usr/bin/env python3
"""Converts the exposure-score coefficient tables of shared/data/exposure_scores (see its
PROVENANCE.md) into agemark's model format: `cpg_id,coefficient[,reference_beta]` with the
`(Intercept)` first. Values are copied, never refitted; the one arithmetic step is Elliott
2014's rule rewritten as a linear model (below). Run from the repository root:

    python3 reference/scores/make_scores.py ../shared/data/exposure_scores

Elliott et al. 2014 (EpiSmokEr `SSc`): per CpG, diff = beta - ref if all_effect >= 0 else
ref - beta; score = sum(weights * diff). That is linear: coefficient = weights * sign(effect),
intercept = -sum(coefficient * ref), and `reference_beta` = ref (the never-smoker median), so a
CpG imputed with its reference value adds exactly 0, as it does in EpiSmokEr's sum.
Gadd et al. 2022 EpiScores carry the training means (`mean_beta`) they impute with: kept as
`reference_beta`.
"""
import csv
import sys
from pathlib import Path

src = Path(sys.argv[1])
out = Path(__file__).resolve().parent


def write(name, intercept, rows):
    with open(out / name, "w", newline="") as f:
        ref = any(len(r) > 2 for r in rows)
        f.write("cpg_id,coefficient" + (",reference_beta" if ref else "") + "\n")
        f.write(f"(Intercept),{intercept!r}" + ("," if ref else "") + "\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")


def two_col(path, id_col, coef_col, intercept_names=("(Intercept)", "Intercept")):
    icpt, rows = 0.0, []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r[id_col] in intercept_names:
                icpt = float(r[coef_col])
            else:
                rows.append((r[id_col], r[coef_col]))
    return icpt, rows


write("reese2017_maternal_smoking.csv", 0.0,
      two_col(src / "reese2017_newborn_maternal_smoking_28cpg.csv", "cpg_id", "coef")[1])
write("rauschert2020_prenatal_smoking.csv",
      *two_col(src / "rauschert2020_dnasmoker_450k_204cpg.csv", "CpG", "Coefficient"))
write("rauschert2020_prenatal_smoking_epic.csv",
      *two_col(src / "rauschert2020_dnasmoker_epic_181cpg.csv", "CpG", "Coefficient"))
write("provencal2020_ges.csv", 0.0,
      two_col(src / "provencal2020_GES_24cpg_weights.csv", "CpG", "Weights")[1])
write("jung2023_dnam_stress.csv",
      *two_col(src / "jung2023_DNAmStress_211cpg.csv", "cpg_id", "coef"))
write("stevenson2021_dnam_il6.csv", 0.0,
      two_col(src / "stevenson2021_DNAmIL6_35cpg_methylcipherv2.csv", "cpg_id", "coef")[1])

with open(src / "gadd2022_EpiScore_CRP_omniage_rows.csv", newline="") as f:
    rows = [(r["probe"], r["coef"], r["mean_beta"]) for r in csv.DictReader(f) if r["trait"] == "CRP"]
write("gadd2022_crp_episcore.csv", 0.0, rows)

rows, icpt = [], 0.0
with open(src / "elliott2014_smoking_score_187cpg_epismoker_Illig_data.tsv", newline="") as f:
    r = csv.reader(f, delimiter="\t")
    head = next(r)
    for cells in r:
        d = dict(zip(["row"] + head[1:], cells))
        w, eff, ref = float(d["weights"]), float(d["all_effect"]), float(d["reference_never_median_beta_all"])
        coef = w if eff >= 0 else -w
        icpt -= coef * ref
        rows.append((d["cpgs"], repr(coef), d["reference_never_median_beta_all"]))
write("elliott2014_smoking.csv", icpt, rows)
