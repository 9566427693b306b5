#!/usr/bin/env python3
"""Write a SYNTHETIC beta matrix for the clocks benchmark (benches/clocks_bench.sh).

Rows are CpGs, columns samples, CSV, 10 decimals per value like GEO series matrices. The rows
are every CpG of the 20 bundled clocks and DunedinPACE's 20,000 gold-standard probes (read from
reference/clocks/), padded with made-up IDs (cg5xxxxxxx, which no array has) to the requested
count, in a shuffled order. Each row gets a mean drawn from a bimodal beta-like distribution;
each cell is that mean plus noise, clipped to [0.001, 0.999]; one cell in 10% of the rows is NA. Seeded: the
same arguments give the same bytes. Sample names: SYNTHETIC_0001, ...

THE VALUES ARE SYNTHETIC: they only exercise the reader and the models at array scale; no
clock value computed from them means anything.

Usage: make_clock_matrix.py OUT.csv [--cpgs 850000] [--samples 200] [--seed 1]
Python 3 standard library only.
"""
import argparse
import csv
import gzip
import os
import random
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLOCKS = os.path.join(REPO, "reference", "clocks")


def clock_cpgs():
    ids = set()
    with open(os.path.join(CLOCKS, "clocks.tsv")) as f:
        files = [r["file"] for r in csv.DictReader(f, delimiter="\t")]
    files.append("dunedinpace2022_gold_standard_means.csv.gz")
    for name in files:
        path = os.path.join(CLOCKS, name)
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt") as f:
            next(f)
            for line in f:
                cpg = line.split(",", 1)[0]
                if cpg != "(Intercept)":
                    ids.add(cpg)
    return sorted(ids)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--cpgs", type=int, default=850_000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    ids = clock_cpgs()
    pad = a.cpgs - len(ids)
    if pad < 0:
        sys.exit(f"--cpgs must be at least {len(ids)} (the clocks' CpGs)")
    ids += [f"cg5{i:07d}" for i in range(pad)]
    rng.shuffle(ids)
    # 100 mean levels × 64 noisy values each, formatted once; rows draw from their level.
    levels = []
    for k in range(100):
        m = rng.betavariate(0.4, 0.4) * 0.96 + 0.02
        vals = []
        for _ in range(64):
            v = min(0.999, max(0.001, rng.gauss(m, 0.04)))
            vals.append(f"{v:.10f}")
        levels.append(vals)
    n = a.samples
    samples = [f"SYNTHETIC_{i + 1:04d}" for i in range(n)]
    with open(a.out, "w", buffering=1 << 22) as f:
        f.write("cpg_id," + ",".join(samples) + "\n")
        choices, randrange = rng.choices, rng.randrange
        for cpg in ids:
            row = choices(levels[randrange(100)], k=n)
            if randrange(10) == 0:  # one NA cell in 10% of rows
                row[randrange(n)] = "NA"
            f.write(cpg + "," + ",".join(row) + "\n")
    print(f"{a.out}: {len(ids)} CpGs x {n} samples (SYNTHETIC)", file=sys.stderr)


if __name__ == "__main__":
    main()
