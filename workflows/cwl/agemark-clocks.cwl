#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark clocks: epigenetic clocks from a beta matrix"
doc: Writes <prefix>.clocks.tsv and .parquet (one row per sample x clock).
hints:
  DockerRequirement:
    dockerPull: agemark:latest
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: 4000
requirements:
  InlineJavascriptRequirement: {}
baseCommand: [agemark]
arguments:
  - {position: 0, prefix: --threads, valueFrom: $(inputs.threads)}
  - {position: 1, valueFrom: clocks}
inputs:
  betas: {type: File, inputBinding: {position: 2}, doc: "Beta matrix (CSV/TSV, plain or gzip)"}
  samplesheet: {type: File?, inputBinding: {position: 3, prefix: --samplesheet}, doc: "Ages for age acceleration"}
  prefix: {type: string, inputBinding: {position: 4, prefix: -o}}
  extra_args: {type: "string[]", default: [], inputBinding: {position: 5}, doc: "More options of agemark clocks"}
  threads: {type: int, default: 2}
outputs:
  tsv: {type: File, outputBinding: {glob: $(inputs.prefix).clocks.tsv}}
  parquet: {type: File, outputBinding: {glob: $(inputs.prefix).clocks.parquet}}
