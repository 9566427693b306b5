# Helpers of the agemark Snakefile: configuration, sample-sheet validation (by agemark itself)
# and the sheet's rows. Kept apart from the rules (snakemake --lint asks for that).
import csv
import os
import re
import shlex
import subprocess
import tempfile

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

SHEET = config["samplesheet"]
OUTDIR = os.path.normpath(config["outdir"])
AGEMARK = config["agemark"]
BETAS = config["betas"]
RES = config["resources"]
# This repository's Snakemake wrappers (snakemake-wrappers shape), used by path.
WRAPPERS = os.path.normpath(os.path.join(workflow.basedir, "..", "wrappers"))


def check_samplesheet(sheet):
    """Validates the sheet with `agemark run --check` before any job is planned, so a bad sheet
    stops the workflow at start with agemark's own message (all problems, with line numbers).
    Returns agemark's IDAT batch plan of the sheet (`--plan`): {batch: [(sample_id, idat), ...]},
    so the grouping of IDAT samples into batches is agemark's, not re-implemented here."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = os.path.join(tmp, "idat-plan.tsv")
        cmd = [AGEMARK, "run", "--samplesheet", sheet, "--outdir", OUTDIR, "--check", "--plan", plan]
        if BETAS:
            cmd += ["--betas", BETAS]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as e:
            raise WorkflowError(f"cannot run agemark ({AGEMARK}): {e}")
        if done.returncode != 0:
            raise WorkflowError(
                f"the sample sheet is not valid for agemark (`{' '.join(cmd)}` exited "
                f"{done.returncode}):\n{done.stderr.rstrip()}"
            )
        batches = {}
        with open(plan, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                batches.setdefault(row["batch"], []).append((row["sample_id"], row["idat"]))
        return batches


def read_samplesheet(sheet):
    """The sheet's rows as dicts (CSV or TSV, BOM and CRLF as agemark accepts them). Only called
    after agemark has accepted the sheet, so this does no validation of its own."""
    with open(sheet, newline="", encoding="utf-8-sig") as f:
        text = f.read()
    header = text.splitlines()[0] if text else ""
    delimiter = "\t" if "\t" in header else ","
    rows = csv.DictReader(text.splitlines(), delimiter=delimiter)
    return [
        {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        for row in rows
        if any((v or "").strip() for v in row.values() if isinstance(v, str))
    ]


IDAT_BATCHES = check_samplesheet(SHEET)
SHEET_DIR = os.path.dirname(SHEET)
ROWS = {row["sample_id"]: row for row in read_samplesheet(SHEET)}
READ_SAMPLES = [s for s, row in ROWS.items() if row.get("reads")]
HAS_METHYLATION = bool(BETAS) or any(
    row.get(col) for row in ROWS.values() for col in ("idat", "methylation_calls")
)
METHYLATION_STAGES = config["methylation_stages"] if HAS_METHYLATION else []


def sheet_path(value):
    """A path of the sheet, resolved as agemark resolves it (against the sheet's directory)."""
    return value if os.path.isabs(value) else os.path.join(SHEET_DIR, value)


def reads_inputs(wildcards):
    """The inputs of the agemark/reads wrapper: `reads` (one file or a pair) and `reference`."""
    row = ROWS[wildcards.sample]
    reads = [sheet_path(row["reads"])]
    if row.get("reads2"):
        reads.append(sheet_path(row["reads2"]))
    files = {"reads": reads}
    if row.get("reference"):
        files["reference"] = sheet_path(row["reference"])
    return files


def prefix_of(path, suffix):
    """The output prefix of a fixed-suffix output file."""
    assert path.endswith(suffix), (path, suffix)
    return path[: -len(suffix)]


def sample_tables(stage):
    return [f"{OUTDIR}/{s}/{s}.{stage}.tsv" for s in READ_SAMPLES]


def methylation_tables():
    return [f"{OUTDIR}/methylation/cohort.{stage}.tsv" for stage in METHYLATION_STAGES]


def idat_files(path):
    """The files of an IDAT input (a `<barcode>_<position>` prefix or a directory), as inputs."""
    if os.path.isdir(path):
        return [path]
    return [
        f"{path}_{channel}.idat{gz}"
        for channel in ("Grn", "Red")
        for gz in ("", ".gz")
        if os.path.exists(f"{path}_{channel}.idat{gz}")
    ]


def idat_inputs(wildcards):
    return [f for _, path in IDAT_BATCHES[wildcards.batch] for f in idat_files(path)]


def idat_options(wildcards):
    """Everything after `agemark idat`, as `agemark run`'s idat job runs it for this batch."""
    members = IDAT_BATCHES[wildcards.batch]
    opts = [path for _, path in members]
    opts += ["--sample-ids", ",".join(sample for sample, _ in members)]
    return " ".join(shlex.quote(o) for o in opts)


def idat_betas():
    return [f"{OUTDIR}/idat/{b}.betas.tsv.gz" for b in IDAT_BATCHES]


def idat_tables():
    return [f"{OUTDIR}/idat/{b}.idat_qc.tsv" for b in IDAT_BATCHES]
