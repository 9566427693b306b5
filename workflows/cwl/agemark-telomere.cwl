#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark telomere: Telomere length from reads (TelSeq- and TelomereHunter-compatible)"
doc: Writes <prefix>.<stage>.tsv and .parquet (fixed suffixes); one-line error and non-zero exit on bad input.
requirements:
  InlineJavascriptRequirement: {}
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
baseCommand: [agemark]
arguments:
  - {position: 0, prefix: --threads, valueFrom: $(inputs.threads)}
  - {position: 1, valueFrom: telomere}
inputs:
  reads: {type: File, format: [edam:format_2572, edam:format_3462, edam:format_2573, edam:format_1930], inputBinding: {position: 2}, secondaryFiles: [{pattern: .bai, required: false}, {pattern: .crai, required: false}]}
  reads2: {type: File?, format: edam:format_1930, inputBinding: {position: 3}, doc: "Second FASTQ of a pair"}
  reference: {type: File?, format: edam:format_1929, inputBinding: {position: 4, prefix: --reference}, secondaryFiles: [{pattern: .fai, required: false}], doc: "FASTA for CRAM"}
  sample_id: {type: string, inputBinding: {position: 5, prefix: --sample-id}}
  prefix: {type: string, inputBinding: {position: 6, prefix: -o}, doc: "Output prefix (usually the sample id)"}
  extra_args: {type: "string[]", default: [], inputBinding: {position: 7}, doc: "More options of agemark telomere"}
  threads: {type: int, default: 2}
outputs:
  tsv: {type: File, format: edam:format_3475, outputBinding: {glob: $(inputs.prefix).telomere.tsv}}
  parquet: {type: File, format: edam:format_2333, outputBinding: {glob: $(inputs.prefix).telomere.parquet}}
$namespaces:
  edam: http://edamontology.org/
