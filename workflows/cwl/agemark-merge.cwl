#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark merge: tidy tables to the cohort tables"
doc: Writes <prefix>.long.tsv, .long.parquet, .wide.tsv, .columns.tsv, .dyads.tsv, .sample_qc.tsv, .sample_qc.parquet; row order does not depend on the order of the tables.
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
    ramMin: 2000
requirements:
  InlineJavascriptRequirement: {}
baseCommand: [agemark]
arguments:
  - {position: 0, prefix: --threads, valueFrom: $(inputs.threads)}
  - {position: 1, valueFrom: merge}
inputs:
  tables: {type: "File[]", format: edam:format_3475, inputBinding: {position: 2}}
  samplesheet: {type: File?, format: [edam:format_3752, edam:format_3475], inputBinding: {position: 3, prefix: --samplesheet}}
  prefix: {type: string, default: cohort, inputBinding: {position: 4, prefix: -o}}
  threads: {type: int, default: 1}
outputs:
  long_tsv: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).long.tsv}}
  long_parquet: {type: File, format: edam:format_2333, outputBinding: {glob: $(inputs.prefix).long.parquet}}
  wide_tsv: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).wide.tsv}}
  columns_tsv: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).columns.tsv}}
  dyads_tsv: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).dyads.tsv}}
  sample_qc_tsv: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).sample_qc.tsv}}
  sample_qc_parquet: {type: File, format: edam:format_2333, outputBinding: {glob: $(inputs.prefix).sample_qc.parquet}}
$namespaces:
  edam: http://edamontology.org/
