"""Snakemake wrapper for `agemark reads`: telomere length and mtDNA copy number of one sample
from its reads (BAM, CRAM, SAM or FASTQ), both on one decode of the input. See meta.yaml."""

__author__ = "agemark developers"
__copyright__ = "Copyright 2026, agemark developers"
__license__ = "MIT OR Apache-2.0"

import shlex

from snakemake.shell import shell

# agemark writes fixed-suffix files from one prefix: every output must be named, and share it.
SUFFIXES = {
    "telomere_tsv": ".telomere.tsv",
    "telomere_parquet": ".telomere.parquet",
    "mtdna_tsv": ".mtdna.tsv",
    "mtdna_parquet": ".mtdna.parquet",
}
prefixes = set()
for key, suffix in SUFFIXES.items():
    path = snakemake.output.get(key)
    if path is None:
        raise ValueError(f"agemark/reads wrapper: give the output `{key}` (…{suffix})")
    if not path.endswith(suffix):
        raise ValueError(f"agemark/reads wrapper: output `{key}` must end with {suffix}: {path}")
    prefixes.add(path[: -len(suffix)])
if len(prefixes) != 1:
    raise ValueError(f"agemark/reads wrapper: the outputs must share one prefix, not {sorted(prefixes)}")
prefix = prefixes.pop()

reads = snakemake.input.reads
reads = [reads] if isinstance(reads, str) else list(reads)
if len(reads) not in (1, 2):
    raise ValueError(f"agemark/reads wrapper: `reads` is one file or a FASTQ pair, not {len(reads)} files")
args = [*reads]
reference = snakemake.input.get("reference")
if reference:
    args += ["--reference", reference]
sample_id = snakemake.params.get("sample_id") or snakemake.wildcards.get("sample")
if not sample_id:
    raise ValueError("agemark/reads wrapper: give params.sample_id (or a {sample} wildcard)")
args += ["--sample-id", sample_id]

agemark = snakemake.params.get("agemark", "agemark")
extra = snakemake.params.get("extra", "")
cmd = (
    f"{shlex.quote(agemark)} --threads {snakemake.threads} reads "
    f"{' '.join(shlex.quote(a) for a in args)} {extra} -o {shlex.quote(prefix)}"
)
if snakemake.log:
    # agemark's one-line error stays in the log and goes to stderr too, so it shows in a SLURM
    # job's log and (with --show-failed-logs) in the workflow's own log.
    log = shlex.quote(str(snakemake.log[0]))
    cmd = f"{cmd} 2> {log} || {{ status=$?; cat {log} >&2; exit $status; }}"
# shell() formats its argument with the job's namespace: the command is complete, so escape it.
shell(cmd.replace("{", "{{").replace("}", "}}"))
