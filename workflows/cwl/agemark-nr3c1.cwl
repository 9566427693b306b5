#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark nr3c1: NR3C1 probe betas and promoter region means"
doc: Writes <prefix>.nr3c1.tsv and .parquet.
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
  - {position: 1, valueFrom: nr3c1}
inputs:
  betas: {type: File, format: [edam:format_3752, edam:format_3475], inputBinding: {position: 2}, doc: "Beta matrix (CSV/TSV, plain or gzip), or a sequencing-calls file"}
  prefix: {type: string, inputBinding: {position: 4, prefix: -o}}
  extra_args: {type: "string[]", default: [], inputBinding: {position: 5}, doc: "More options of agemark nr3c1"}
  threads: {type: int, default: 2}
outputs:
  tsv: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).nr3c1.tsv}}
  parquet: {type: File, format: edam:format_2333, outputBinding: {glob: $(inputs.prefix).nr3c1.parquet}}
$namespaces:
  edam: http://edamontology.org/
