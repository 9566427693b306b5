#!/usr/bin/env python3
"""SYNTHETIC qPCR plates for a cohort-sized `agemark qpcr` run (timing only).

Each plate is a 384-well plain table (well, sample, target, cq, content, quantity): a 5-point
standard series in duplicate and 2 no-template controls per target (TEL, 36B4), an inter-run
calibrator (POOL) in triplicate per target, and unknowns in triplicate per target to fill the
plate (58 samples a plate). Cq values follow a perfect curve (slope -3.32) plus small seeded
noise. Writes PLATES files and `bench.conf` into OUTDIR.

    python3 make_qpcr_bench.py OUTDIR PLATES
"""
import math
import random
import sys
from pathlib import Path

out, plates = Path(sys.argv[1]), int(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
rng = random.Random(7)
SLOPE = -1 / math.log10(2)
TARGETS = {"TEL": 24.0, "36B4": 30.0}
conf = ["# SYNTHETIC qPCR bench (benches/make_qpcr_bench.py)"]
sample = 0
for p in range(plates):
    rows, w = ["well\tsample\ttarget\tcq\tcontent\tquantity"], 0

    def well():
        global w
        w += 1
        return f"{chr(ord('A') + (w - 1) // 24)}{(w - 1) % 24 + 1}"

    for t, icpt in TARGETS.items():
        for q in (1000, 100, 10, 1, 0.1):
            for _ in range(2):
                rows.append(f"{well()}\tstd\t{t}\t{SLOPE * math.log10(q) + icpt + rng.gauss(0, 0.05):.4f}\tstandard\t{q}")
        for _ in range(2):
            rows.append(f"{well()}\tNTC\t{t}\t\tntc\t")
        for _ in range(3):
            q = 36.0 if t == "TEL" else 2.0
            rows.append(f"{well()}\tPOOL\t{t}\t{SLOPE * math.log10(q) + icpt + rng.gauss(0, 0.05):.4f}\tunknown\t")
    while w + 6 <= 384:
        sample += 1
        tel, scg = rng.uniform(20, 60), rng.uniform(1.5, 2.5)
        for t, q in (("TEL", tel), ("36B4", scg)):
            for _ in range(3):
                rows.append(f"{well()}\tS{sample:06d}\t{t}\t{SLOPE * math.log10(q) + TARGETS[t] + rng.gauss(0, 0.1):.4f}\tunknown\t")
    name = f"plate{p + 1:04d}.tsv"
    (out / name).write_text("\n".join(rows) + "\n")
    conf.append(f"plate = {name}")
conf += ["role = TEL=telomere", "role = 36B4=single_copy", "inter_run_calibrator = POOL"]
(out / "bench.conf").write_text("\n".join(conf) + "\n")
print(f"{plates} plates, {sample} samples, {plates * 384} wells in {out}")
