#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark run: the cohort job (here: the methylation stages) on a sample sheet"
doc: |
  With `stages: clocks,exposure,celltypes,identity,nr3c1` this is the one cohort methylation job (cohort imputation,
  DunedinPACE and age-acceleration residuals need every sample at once). The sheet's files are
  staged beside it (relative paths in a sheet are resolved against its directory); IDAT samples
  are read from their batch's betas (`idat_betas`, written by agemark-idat.cwl).
requirements:
  InlineJavascriptRequirement: {}
  InitialWorkDirRequirement:
    listing:
      - $(inputs.samplesheet)
      - $(inputs.inputs)
      - $(inputs.idat_betas)
hints:
  SoftwareRequirement:
    packages:
      agemark:
        version: ["0.1.0"]
        specs: ["https://github.com/agemark/agemark"]
  DockerRequirement:
    # The image workflows/containers/build-image.sh builds (in no registry: build or load it first).
    dockerPull: localhost/agemark:0.1.0
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
  samplesheet: {type: File, format: [edam:format_3752, edam:format_3475]}
  inputs: {type: "File[]", default: [], doc: "Every file the sheet points to"}
  betas: {type: File?, format: [edam:format_3752, edam:format_3475], inputBinding: {position: 3, prefix: --betas}}
  stages: {type: string, default: "clocks,exposure,celltypes,identity,nr3c1", inputBinding: {position: 4, prefix: --stages}}
  idat_betas:
    type: "File[]"
    format: edam:format_3475
    default: []
    doc: "The IDAT batches' betas (agemark-idat.cwl), staged here and read with --idat-dir ."
    inputBinding: {position: 4, prefix: --idat-dir, valueFrom: "$(self.length ? '.' : null)"}
  threads: {type: int, default: 2}
  after: {type: File?, doc: "Ordering only (not used): the cohort workflow passes the sheet check's report, so no job starts on a rejected sheet"}
outputs:
  methylation_tsv:
    type: File[]
    format: edam:format_3475
    outputBinding: {glob: agemark-run/methylation/cohort.*.tsv}
  methylation_parquet:
    type: File[]
    format: edam:format_2333
    outputBinding: {glob: agemark-run/methylation/cohort.*.parquet}
$namespaces:
  edam: http://edamontology.org/
