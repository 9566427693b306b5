#!/usr/bin/env python3
"""SYNTHETIC large cohort for benches/report_bench.sh: COPIES copies of a cohort long table
(the demo's), with ids suffixed per copy (`DEMO-C01` -> `DEMO-C01-k07`; participants and
families likewise, so the copies are separate people and dyads stay within a copy) and every
value jittered by a seeded +-2 %. Nothing here is a person; it only gives the report 1,000
samples of realistic shape.

    make_report_bench.py LONG.tsv OUTDIR COPIES
"""
import os
import random
import sys

src, out, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(20261202)
os.makedirs(out, exist_ok=True)
with open(src) as f:
    header = f.readline()
    rows = [line.rstrip("\n").split("\t") for line in f]
cols = header.rstrip("\n").split("\t")
ix = {c: i for i, c in enumerate(cols)}
with open(os.path.join(out, "cohort.long.tsv"), "w") as w:
    w.write(header)
    for k in range(1, copies + 1):
        for r in rows:
            r = list(r)
            for c in ("sample_id", "participant_id", "family_id"):
                if r[ix[c]]:
                    r[ix[c]] = f"{r[ix[c]]}-k{k:02d}"
            v = r[ix["value"]]
            if v and r[ix["unit"]] not in ("count", "indicator", ""):
                try:
                    r[ix["value"]] = repr(float(v) * (1 + rng.uniform(-0.02, 0.02)))
                except ValueError:
                    pass
            w.write("\t".join(r) + "\n")
