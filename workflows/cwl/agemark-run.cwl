#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark run: the cohort job (here: the methylation stages) on a sample sheet"
doc: |
  With `stages: clocks,celltypes,nr3c1` this is the one cohort methylation job (cohort imputation,
  DunedinPACE and age-acceleration residuals need every sample at once). The sheet's files are
  staged beside it (relative paths in a sheet are resolved against its directory).
requirements:
  InlineJavascriptRequirement: {}
  InitialWorkDirRequirement:
    listing:
      - $(inputs.samplesheet)
      - $(inputs.inputs)
hints:
  DockerRequirement:
    dockerPull: agemark:latest
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: 8000
baseCommand: [agemark]
arguments:
  - {position: 0, prefix: --threads, valueFrom: $(inputs.threads)}
  - {position: 1, valueFrom: run}
  - {position: 2, prefix: --samplesheet, valueFrom: $(inputs.samplesheet.basename)}
  - {position: 5, prefix: --outdir, valueFrom: agemark-run}
inputs:
  samplesheet: {type: File}
  inputs: {type: "File[]", default: [], doc: "Every file the sheet points to"}
  betas: {type: File?, inputBinding: {position: 3, prefix: --betas}}
  stages: {type: string, default: "clocks,celltypes,nr3c1", inputBinding: {position: 4, prefix: --stages}}
  threads: {type: int, default: 2}
  after: {type: File?, doc: "Ordering only (not used): the cohort workflow passes the sheet check's report, so no job starts on a rejected sheet"}
outputs:
  methylation_tsv:
    type: File[]
    outputBinding: {glob: agemark-run/methylation/cohort.*.tsv}
  methylation_parquet:
    type: File[]
    outputBinding: {glob: agemark-run/methylation/cohort.*.parquet}
