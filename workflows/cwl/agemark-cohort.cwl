#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
label: "agemark on a cohort: sheet check, one read job per sample, one job per IDAT batch, one methylation job, merge, report"
doc: |
  The inputs come from the sample sheet of `agemark run`:
  `python3 workflows/cwl/samplesheet_to_job.py SHEET [--betas FILE] > job.json` writes them
  (the IDAT batches from `agemark run --check --plan`).
requirements:
  ScatterFeatureRequirement: {}
  MultipleInputFeatureRequirement: {}
  StepInputExpressionRequirement: {}
  InlineJavascriptRequirement: {}
inputs:
  samplesheet: File
  sheet_inputs: {type: "File[]", default: []}
  betas: File?
  sample_ids: string[]
  reads: File[]
  reads2: {type: {type: array, items: ["null", File]}, doc: "Second FASTQ per sample (null when none)"}
  reference: {type: {type: array, items: ["null", File]}, doc: "Reference FASTA per sample (null when none)"}
  idat_batches: {type: "string[]", default: [], doc: "IDAT batches (agemark's plan)"}
  idat_prefixes: {type: {type: array, items: {type: array, items: string}}, default: [], doc: "Per batch: the IDAT prefixes"}
  idat_sample_ids: {type: {type: array, items: {type: array, items: string}}, default: [], doc: "Per batch: the sample id of each prefix"}
  idat_files: {type: {type: array, items: {type: array, items: File}}, default: [], doc: "Per batch: the IDAT files"}
  methylation_stages: {type: string, default: "clocks,exposure,celltypes,identity,nr3c1", doc: "agemark run --stages of the methylation job"}
  threads: {type: int, default: 2}
steps:
  check:
    run: agemark-check.cwl
    in:
      samplesheet: samplesheet
      inputs: sheet_inputs
      betas: betas
    out: [report]
  per_sample:
    run: agemark-reads.cwl
    scatter: [sample_id, prefix, reads, reads2, reference]
    scatterMethod: dotproduct
    in:
      # Waits for the check: no read job starts on a sheet agemark rejects.
      after: check/report
      sample_id: sample_ids
      prefix: sample_ids
      reads: reads
      reads2: reads2
      reference: reference
      threads: threads
    out: [telomere_tsv, telomere_parquet, mtdna_tsv, mtdna_parquet]
  per_idat_batch:
    run: agemark-idat.cwl
    scatter: [prefix, prefixes, sample_ids, idats]
    scatterMethod: dotproduct
    in:
      after: check/report
      prefix: idat_batches
      prefixes: idat_prefixes
      sample_ids: idat_sample_ids
      idats: idat_files
      threads: threads
    out: [betas, detection, qc_tsv, qc_parquet]
  methylation:
    run: agemark-run.cwl
    in:
      after: check/report
      samplesheet: samplesheet
      inputs: sheet_inputs
      betas: betas
      idat_betas: per_idat_batch/betas
      stages: methylation_stages
      threads: threads
    out: [methylation_tsv, methylation_parquet]
  merge:
    run: agemark-merge.cwl
    in:
      tables:
        source: [per_sample/telomere_tsv, per_sample/mtdna_tsv, per_idat_batch/qc_tsv, methylation/methylation_tsv]
        linkMerge: merge_flattened
      samplesheet: samplesheet
    out: [long_tsv, long_parquet, wide_tsv, columns_tsv, dyads_tsv, sample_qc_tsv, sample_qc_parquet]
  report:
    run: agemark-report.cwl
    in:
      tables:
        source: [merge/long_tsv, merge/long_parquet, merge/wide_tsv, merge/columns_tsv, merge/dyads_tsv]
        linkMerge: merge_flattened
      samplesheet: samplesheet
    out: [html, multiqc]
outputs:
  telomere_tsv: {type: "File[]", outputSource: per_sample/telomere_tsv}
  mtdna_tsv: {type: "File[]", outputSource: per_sample/mtdna_tsv}
  idat_betas: {type: "File[]", outputSource: per_idat_batch/betas}
  idat_qc_tsv: {type: "File[]", outputSource: per_idat_batch/qc_tsv}
  methylation_tsv: {type: "File[]", outputSource: methylation/methylation_tsv}
  long_tsv: {type: File, outputSource: merge/long_tsv}
  long_parquet: {type: File, outputSource: merge/long_parquet}
  wide_tsv: {type: File, outputSource: merge/wide_tsv}
  columns_tsv: {type: File, outputSource: merge/columns_tsv}
  dyads_tsv: {type: File, outputSource: merge/dyads_tsv}
  sample_qc_tsv: {type: File, outputSource: merge/sample_qc_tsv}
  sample_qc_parquet: {type: File, outputSource: merge/sample_qc_parquet}
  report_html: {type: File, outputSource: report/html}
  multiqc: {type: Directory, outputSource: report/multiqc}
