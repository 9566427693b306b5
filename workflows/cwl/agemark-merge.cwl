#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark merge: tidy tables to the cohort tables"
doc: Writes <prefix>.long.tsv, .long.parquet, .wide.tsv, .columns.tsv, .dyads.tsv, .sample_qc.tsv, .sample_qc.parquet; row order does not depend on the order of the tables.
hints:
  DockerRequirement:
    dockerPull: agemark:latest
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: 2000
requirements:
  InlineJavascriptRequirement: {}
baseCommand: [agemark]
arguments:
  - {position: 0, prefix: --threads, valueFrom: $(inputs.threads)}
  - {position: 1, valueFrom: merge}
inputs:
  tables: {type: "File[]", inputBinding: {position: 2}}
  samplesheet: {type: File?, inputBinding: {position: 3, prefix: --samplesheet}}
  prefix: {type: string, default: cohort, inputBinding: {position: 4, prefix: -o}}
  threads: {type: int, default: 1}
outputs:
  long_tsv: {type: File, outputBinding: {glob: $(inputs.prefix).long.tsv}}
  long_parquet: {type: File, outputBinding: {glob: $(inputs.prefix).long.parquet}}
  wide_tsv: {type: File, outputBinding: {glob: $(inputs.prefix).wide.tsv}}
  columns_tsv: {type: File, outputBinding: {glob: $(inputs.prefix).columns.tsv}}
  dyads_tsv: {type: File, outputBinding: {glob: $(inputs.prefix).dyads.tsv}}
  sample_qc_tsv: {type: File, outputBinding: {glob: $(inputs.prefix).sample_qc.tsv}}
  sample_qc_parquet: {type: File, outputBinding: {glob: $(inputs.prefix).sample_qc.parquet}}
