#!/usr/bin/env python3
"""Writes the CWL job (JSON, which is YAML too) of agemark-cohort.cwl from an agemark sample sheet.

    python3 samplesheet_to_job.py SHEET [--betas FILE] [--threads N] [--agemark BIN] \
        --staged-sheet STAGED.csv > job.json
    cwltool agemark-cohort.cwl job.json

CWL runners stage every file in a fresh directory, so the sheet's relative paths (resolved by
agemark against the sheet's own directory, e.g. `../x.bam`) would point nowhere. STAGED.csv is the
same sheet with every file named by its base name only; the workflow stages those files beside
it. Base names must therefore be unique (this script stops when they are not). Validate the sheet
first (`agemark run --samplesheet SHEET --check`); the workflow's first step does it again.

The IDAT batches (one agemark-idat.cwl job each) are agemark's own: this script runs `agemark run
--samplesheet SHEET --check --plan FILE` (so agemark must be on PATH, or give --agemark) and
emits idat_batches / idat_prefixes / idat_sample_ids / idat_files from the plan. IDAT inputs must
be <barcode>_<position> prefixes here (a directory cannot be staged as the sheet names it).
Standard library only.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

FILE_COLUMNS = ("reads", "reads2", "reference", "idat", "methylation_calls")


# EDAM formats by file name, as the tools' `format:` fields name them (cwltool checks that every
# File given to an input with a format carries one of those formats).
EDAM = "http://edamontology.org/"
FORMATS = (
    ((".bam",), "format_2572"),  # BAM
    ((".cram",), "format_3462"),  # CRAM
    ((".sam", ".sam.gz"), "format_2573"),  # SAM
    ((".fq", ".fastq", ".fq.gz", ".fastq.gz"), "format_1930"),  # FASTQ
    ((".fa", ".fasta", ".fa.gz", ".fasta.gz", ".fna", ".fna.gz"), "format_1929"),  # FASTA
    ((".idat", ".idat.gz"), "format_3578"),  # IDAT
    ((".csv", ".csv.gz"), "format_3752"),  # CSV
    ((".tsv", ".tsv.gz", ".txt", ".txt.gz"), "format_3475"),  # TSV
)


def cwl_file(path):
    f = {"class": "File", "path": os.path.abspath(path)}
    name = os.path.basename(path).lower()
    for suffixes, edam in FORMATS:
        if name.endswith(suffixes):
            f["format"] = EDAM + edam
            break
    return f


def idat_files(prefix):
    """The _Grn/_Red files of an IDAT prefix (plain or .gz)."""
    if os.path.isdir(prefix):
        sys.exit(f"{prefix}: an IDAT directory; give <barcode>_<position> prefixes in the sheet for CWL")
    files = [
        f"{prefix}_{channel}.idat{gz}"
        for channel in ("Grn", "Red")
        for gz in ("", ".gz")
        if os.path.isfile(f"{prefix}_{channel}.idat{gz}")
    ]
    if not files:
        sys.exit(f"{prefix}: no <prefix>_Grn.idat / _Red.idat files")
    return files


def idat_plan(agemark, sheet, betas):
    """agemark's IDAT batch plan of the sheet: [(batch, sample_id, idat path), ...]."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = os.path.join(tmp, "plan.tsv")
        cmd = [agemark, "run", "--samplesheet", sheet, "--check", "--plan", plan]
        if betas:
            cmd += ["--betas", betas]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"`{' '.join(cmd)}` exited {done.returncode}:\n{done.stderr.rstrip()}")
        with open(plan, newline="", encoding="utf-8") as f:
            return [(r["batch"], r["sample_id"], r["idat"]) for r in csv.DictReader(f, delimiter="\t")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("samplesheet")
    ap.add_argument("--betas")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--agemark", default="agemark", help="the agemark binary (for the IDAT batch plan)")
    ap.add_argument("--staged-sheet", required=True, help="where to write the sheet with base names")
    a = ap.parse_args()
    with open(a.samplesheet, newline="", encoding="utf-8-sig") as f:
        lines = f.read().splitlines()
    delimiter = "\t" if lines and "\t" in lines[0] else ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    rows = [
        {k.strip(): (v or "").strip() for k, v in r.items() if k is not None}
        for r in reader
    ]
    rows = [r for r in rows if any(r.values())]
    header = [h.strip() for h in reader.fieldnames or []]
    base = os.path.dirname(os.path.abspath(a.samplesheet))

    def resolve(value):
        return value if os.path.isabs(value) else os.path.join(base, value)

    staged_rows, seen = [], {}
    for r in rows:
        staged = dict(r)
        for c in FILE_COLUMNS:
            if r.get(c):
                full, name = os.path.abspath(resolve(r[c])), os.path.basename(r[c].rstrip("/"))
                if seen.setdefault(name, full) != full:
                    sys.exit(f"{a.samplesheet}: two files named {name}: {seen[name]} and {full}")
                staged[c] = name
        staged_rows.append(staged)
    with open(a.staged_sheet, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header, delimiter=delimiter, lineterminator="\n")
        w.writeheader()
        w.writerows(staged_rows)

    with_reads = [r for r in rows if r.get("reads")]
    job = {
        "samplesheet": cwl_file(a.staged_sheet),
        "sheet_inputs": [
            cwl_file(f)
            for r in rows
            for c in FILE_COLUMNS
            if r.get(c)
            for f in (idat_files(resolve(r[c])) if c == "idat" else [resolve(r[c])])
        ],
        "sample_ids": [r["sample_id"] for r in with_reads],
        "reads": [cwl_file(resolve(r["reads"])) for r in with_reads],
        "reads2": [cwl_file(resolve(r["reads2"])) if r.get("reads2") else None for r in with_reads],
        "reference": [
            cwl_file(resolve(r["reference"])) if r.get("reference") else None for r in with_reads
        ],
        "threads": a.threads,
    }
    batches = {}
    if any(r.get("idat") for r in rows):
        for batch, sample_id, idat in idat_plan(a.agemark, a.samplesheet, a.betas):
            batches.setdefault(batch, []).append((sample_id, idat))
    job["idat_batches"] = list(batches)
    job["idat_prefixes"] = [[os.path.basename(p) for _, p in m] for m in batches.values()]
    job["idat_sample_ids"] = [[s for s, _ in m] for m in batches.values()]
    job["idat_files"] = [[cwl_file(f) for _, p in m for f in idat_files(p)] for m in batches.values()]
    if a.betas:
        job["betas"] = cwl_file(a.betas)
    json.dump(job, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
