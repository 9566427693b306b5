#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark clocks: epigenetic clocks from a beta matrix"
doc: Writes <prefix>.clocks.tsv and .parquet (one row per sample x clock).
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
requirements:
  InlineJavascriptRequirement: {}
baseCommand: [agemark]
arguments:
  - {position: 0, prefix: --threads, valueFrom: $(inputs.threads)}
  - {position: 1, valueFrom: clocks}
inputs:
  betas: {type: File, format: [edam:format_3752, edam:format_3475], inputBinding: {position: 2}, doc: "Beta matrix (CSV/TSV, plain or gzip)"}
  samplesheet: {type: File?, format: [edam:format_3752, edam:format_3475], inputBinding: {position: 3, prefix: --samplesheet}, doc: "Ages for age acceleration"}
  prefix: {type: string, inputBinding: {position: 4, prefix: -o}}
  extra_args: {type: "string[]", default: [], inputBinding: {position: 5}, doc: "More options of agemark clocks"}
  threads: {type: int, default: 2}
outputs:
  tsv: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).clocks.tsv}}
  parquet: {type: File, format: edam:format_2333, outputBinding: {glob: $(inputs.prefix).clocks.parquet}}
$namespaces:
  edam: http://edamontology.org/
