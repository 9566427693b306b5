#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark celltypes: cell composition (Houseman projection) from a beta matrix, IDATs or sequencing calls"
doc: Writes <prefix>.celltypes.tsv and .parquet (one row per sample x cell type, plus the sum).
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
  - {position: 1, valueFrom: celltypes}
inputs:
  betas: {type: File, inputBinding: {position: 2}, doc: "Beta matrix (CSV/TSV, plain or gzip), or a sequencing-calls file"}
  panel: {type: string, inputBinding: {position: 3, prefix: --panel}, doc: "Cell-type panel (agemark reference list), e.g. cordblood, blood, placenta_term"}
  prefix: {type: string, inputBinding: {position: 4, prefix: -o}}
  extra_args: {type: "string[]", default: [], inputBinding: {position: 5}, doc: "More options of agemark celltypes"}
  threads: {type: int, default: 2}
outputs:
  tsv: {type: File, outputBinding: {glob: $(inputs.prefix).celltypes.tsv}}
  parquet: {type: File, outputBinding: {glob: $(inputs.prefix).celltypes.parquet}}
