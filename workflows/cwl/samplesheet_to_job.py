#!/usr/bin/env python3
"""Writes the CWL job (JSON, which is YAML too) of agemark-cohort.cwl from an agemark sample sheet.

    python3 samplesheet_to_job.py SHEET [--betas FILE] [--threads N] > job.json
    cwltool agemark-cohort.cwl job.json

Relative paths in the sheet are resolved against the sheet's directory, as agemark resolves them.
Validate the sheet first (`agemark run --samplesheet SHEET --outdir X --check`); the workflow's
first step does it again. Standard library only.
"""
import argparse
import csv
import json
import os
import sys

FILE_COLUMNS = ("reads", "reads2", "reference", "idat", "methylation_calls")


def cwl_file(path):
    return {"class": "File", "path": os.path.abspath(path)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("samplesheet")
    ap.add_argument("--betas")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    with open(a.samplesheet, newline="", encoding="utf-8-sig") as f:
        lines = f.read().splitlines()
    delimiter = "\t" if lines and "\t" in lines[0] else ","
    rows = [
        {k.strip(): (v or "").strip() for k, v in r.items() if k is not None}
        for r in csv.DictReader(lines, delimiter=delimiter)
    ]
    rows = [r for r in rows if any(r.values())]
    base = os.path.dirname(os.path.abspath(a.samplesheet))

    def resolve(value):
        return value if os.path.isabs(value) else os.path.join(base, value)

    with_reads = [r for r in rows if r.get("reads")]
    job = {
        "samplesheet": cwl_file(a.samplesheet),
        "sheet_inputs": [
            cwl_file(resolve(r[c])) for r in rows for c in FILE_COLUMNS if r.get(c)
        ],
        "sample_ids": [r["sample_id"] for r in with_reads],
        "reads": [cwl_file(resolve(r["reads"])) for r in with_reads],
        "reads2": [cwl_file(resolve(r["reads2"])) if r.get("reads2") else None for r in with_reads],
        "reference": [
            cwl_file(resolve(r["reference"])) if r.get("reference") else None for r in with_reads
        ],
        "threads": a.threads,
    }
    if a.betas:
        job["betas"] = cwl_file(a.betas)
    json.dump(job, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
