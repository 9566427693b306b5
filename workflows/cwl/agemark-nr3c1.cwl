#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark nr3c1: NR3C1 probe betas and promoter region means"
doc: Writes <prefix>.nr3c1.tsv and .parquet.
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
  - {position: 1, valueFrom: nr3c1}
inputs:
  betas: {type: File, inputBinding: {position: 2}, doc: "Beta matrix (CSV/TSV, plain or gzip), or a sequencing-calls file"}
  prefix: {type: string, inputBinding: {position: 4, prefix: -o}}
  extra_args: {type: "string[]", default: [], inputBinding: {position: 5}, doc: "More options of agemark nr3c1"}
  threads: {type: int, default: 2}
outputs:
  tsv: {type: File, outputBinding: {glob: $(inputs.prefix).nr3c1.tsv}}
  parquet: {type: File, outputBinding: {glob: $(inputs.prefix).nr3c1.parquet}}
