#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark idat: one IDAT batch → betas, detection p-values, per-sample QC"
doc: |
  Writes <prefix>.betas.tsv.gz, .detection.tsv.gz, .idat_qc.tsv and .parquet (fixed suffixes);
  a sample that fails makes the step fail (exit 1, the reason on stderr). The IDAT files are
  staged in the working directory and named on the command line by their <barcode>_<position>
  prefixes; `sample_ids` (one per prefix, in order) names the samples in every output, as
  `agemark run`'s idat job does (`samplesheet_to_job.py` takes the batches from `agemark run
  --check --plan`).
requirements:
  InlineJavascriptRequirement: {}
  InitialWorkDirRequirement:
    listing:
      - $(inputs.idats)
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
    ramMin: 4000
baseCommand: [agemark]
arguments:
  - {position: 0, prefix: --threads, valueFrom: $(inputs.threads)}
  - {position: 1, valueFrom: idat}
inputs:
  idats: {type: "File[]", format: edam:format_3578, doc: "The batch's IDAT files (<barcode>_<position>_Grn/_Red.idat, plain or .gz)"}
  prefixes: {type: "string[]", inputBinding: {position: 2}, doc: "The <barcode>_<position> prefixes of the staged files, in order"}
  sample_ids: {type: "string[]?", inputBinding: {position: 3, prefix: --sample-ids, itemSeparator: ","}, doc: "One sample id per prefix"}
  prefix: {type: string, inputBinding: {position: 4, prefix: -o}, doc: "Output prefix (usually the batch)"}
  extra_args: {type: "string[]", default: [], inputBinding: {position: 5}, doc: "More options of agemark idat (e.g. --manifest is a file: not wired here)"}
  threads: {type: int, default: 2}
  after: {type: File?, doc: "Ordering only (not used): the cohort workflow passes the sheet check's report, so no job starts on a rejected sheet"}
outputs:
  betas: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).betas.tsv.gz}}
  detection: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).detection.tsv.gz}}
  qc_tsv: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).idat_qc.tsv}}
  qc_parquet: {type: File, format: edam:format_2333, outputBinding: {glob: $(inputs.prefix).idat_qc.parquet}}
$namespaces:
  edam: http://edamontology.org/
