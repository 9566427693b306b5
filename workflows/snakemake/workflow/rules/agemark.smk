# The rules of the agemark workflow (helpers and configuration in common.smk).


rule reads:
    """Telomere and mtDNA copy number for one sample: the same command `agemark run` runs, through
    the agemark/reads wrapper of this repository (wrappers/agemark/reads)."""
    input:
        unpack(reads_inputs),
    output:
        telomere_tsv=f"{OUTDIR}/{{sample}}/{{sample}}.telomere.tsv",
        telomere_parquet=f"{OUTDIR}/{{sample}}/{{sample}}.telomere.parquet",
        mtdna_tsv=f"{OUTDIR}/{{sample}}/{{sample}}.mtdna.tsv",
        mtdna_parquet=f"{OUTDIR}/{{sample}}/{{sample}}.mtdna.parquet",
    log:
        f"{OUTDIR}/logs/reads/{{sample}}.log",
    params:
        agemark=AGEMARK,
        sample_id=lambda wildcards: wildcards.sample,
        extra=config["reads_args"],
    threads: RES["reads"]["threads"]
    resources:
        mem_mb=RES["reads"]["mem_mb"],
        runtime=RES["reads"]["runtime"],
    conda:
        "../envs/agemark.yaml"
    container:
        config["container"]
    # On failure the wrapper copies the job's log (agemark's one-line error) to stderr: it then
    # shows in the SLURM job log and, with --show-failed-logs (set by the profile), in the
    # workflow's log.
    wrapper:
        f"file:{WRAPPERS}/agemark/reads"


rule idat:
    """One IDAT batch: the same command `agemark run`'s idat job runs (betas, detection p-values
    and QC rows of the batch's samples, named by their sample ids)."""
    input:
        idat_inputs,
    output:
        betas=f"{OUTDIR}/idat/{{batch}}.betas.tsv.gz",
        detection=f"{OUTDIR}/idat/{{batch}}.detection.tsv.gz",
        qc_tsv=f"{OUTDIR}/idat/{{batch}}.idat_qc.tsv",
        qc_parquet=f"{OUTDIR}/idat/{{batch}}.idat_qc.parquet",
    log:
        f"{OUTDIR}/logs/idat/{{batch}}.log",
    params:
        agemark=AGEMARK,
        options=idat_options,
        prefix=lambda wildcards, output: prefix_of(output.betas, ".betas.tsv.gz"),
    threads: RES["idat"]["threads"]
    resources:
        mem_mb=RES["idat"]["mem_mb"],
        runtime=RES["idat"]["runtime"],
    conda:
        "../envs/agemark.yaml"
    container:
        config["container"]
    shell:
        "{params.agemark} --threads {threads} idat {params.options}"
        " -o {params.prefix} 2> {log} || {{ status=$?; cat {log} >&2; exit $status; }}"


rule methylation:
    """The one cohort job of the methylation stages (`agemark run --stages ...`), run in a
    scratch directory whose methylation tables are then moved into place; IDAT samples are read
    from their batch's betas (`--idat-dir`)."""
    input:
        samplesheet=SHEET,
        betas=[BETAS] if BETAS else [],
        idat_betas=idat_betas(),
    output:
        tables=[f"{OUTDIR}/methylation/cohort.{stage}.{ext}" for stage in METHYLATION_STAGES for ext in ("tsv", "parquet")],
    log:
        f"{OUTDIR}/logs/methylation.log",
    params:
        agemark=AGEMARK,
        stages=",".join(METHYLATION_STAGES),
        betas=f"--betas {BETAS}" if BETAS else "",
        scratch=lambda wildcards, output: os.path.join(
            os.path.dirname(os.path.dirname(output.tables[0])), ".methylation-job"
        ),
        outdir=lambda wildcards, output: os.path.dirname(output.tables[0]),
        idat_dir=f"--idat-dir {OUTDIR}/idat",
    threads: RES["methylation"]["threads"]
    resources:
        mem_mb=RES["methylation"]["mem_mb"],
        runtime=RES["methylation"]["runtime"],
    conda:
        "../envs/agemark.yaml"
    container:
        config["container"]
    shell:
        "(rm -rf {params.scratch}"
        " && {params.agemark} --threads {threads} run --samplesheet {input.samplesheet}"
        " {params.betas} --stages {params.stages} {params.idat_dir} --outdir {params.scratch}"
        " && mkdir -p {params.outdir} && mv {params.scratch}/methylation/cohort.* {params.outdir}/"
        " && rm -rf {params.scratch}) 2> {log} || {{ status=$?; cat {log} >&2; exit $status; }}"


rule merge:
    """The cohort tables from every sample's and the methylation job's tables."""
    input:
        samplesheet=SHEET,
        telomere=sample_tables("telomere"),
        mtdna=sample_tables("mtdna"),
        methylation=methylation_tables(),
        idat=idat_tables(),
    output:
        long=f"{OUTDIR}/cohort.long.tsv",
        long_parquet=f"{OUTDIR}/cohort.long.parquet",
        wide=f"{OUTDIR}/cohort.wide.tsv",
        columns=f"{OUTDIR}/cohort.columns.tsv",
        dyads=f"{OUTDIR}/cohort.dyads.tsv",
        sample_qc=f"{OUTDIR}/cohort.sample_qc.tsv",
        sample_qc_parquet=f"{OUTDIR}/cohort.sample_qc.parquet",
    log:
        f"{OUTDIR}/logs/merge.log",
    params:
        agemark=AGEMARK,
        prefix=lambda wildcards, output: prefix_of(output.long, ".long.tsv"),
    threads: RES["merge"]["threads"]
    resources:
        mem_mb=RES["merge"]["mem_mb"],
        runtime=RES["merge"]["runtime"],
    conda:
        "../envs/agemark.yaml"
    container:
        config["container"]
    shell:
        "{params.agemark} --threads {threads} merge {input.telomere} {input.mtdna}"
        " {input.methylation} {input.idat} --samplesheet {input.samplesheet} -o {params.prefix}"
        " 2> {log} || {{ status=$?; cat {log} >&2; exit $status; }}"


rule report:
    """The self-contained HTML report (+ MultiQC custom-content files) of the output directory."""
    input:
        samplesheet=SHEET,
        tables=rules.merge.output,
    output:
        html=f"{OUTDIR}/report.html",
        multiqc=directory(f"{OUTDIR}/multiqc"),
    log:
        f"{OUTDIR}/logs/report.log",
    params:
        agemark=AGEMARK,
        outdir=lambda wildcards, output: os.path.dirname(output.html) or ".",
    threads: RES["report"]["threads"]
    resources:
        mem_mb=RES["report"]["mem_mb"],
        runtime=RES["report"]["runtime"],
    conda:
        "../envs/agemark.yaml"
    container:
        config["container"]
    shell:
        "{params.agemark} --threads {threads} report {params.outdir}"
        " --samplesheet {input.samplesheet} -o {output.html} 2> {log} || {{ status=$?; cat {log} >&2; exit $status; }}"
