#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark report: self-contained HTML report and MultiQC files of the cohort tables"
requirements:
  InlineJavascriptRequirement: {}
  InitialWorkDirRequirement:
    listing: $(inputs.tables)
hints:
  SoftwareRequirement:
    packages:
      agemark:
        version: ["0.1.0"]
        specs: ["https://github.com/agemark/agemark"]
  DockerRequirement:
    # The image workflows/containers/build-image.sh builds (in no registry: build or load it first).
    dockerPull: localhost/agemark:0.1.0
baseCommand: [agemark]
arguments:
  - {position: 0, prefix: --threads, valueFrom: $(inputs.threads)}
  - {position: 1, valueFrom: report}
  - {position: 2, valueFrom: .}
  - {position: 4, prefix: -o, valueFrom: $(inputs.name).html}
inputs:
  tables: {type: "File[]", format: [edam:format_3475, edam:format_2333], doc: "The cohort tables of agemark merge"}
  samplesheet: {type: File?, format: [edam:format_3752, edam:format_3475], inputBinding: {position: 3, prefix: --samplesheet}}
  name: {type: string, default: report}
  threads: {type: int, default: 1}
outputs:
  html: {type: File, format: edam:format_2331, outputBinding: {glob: $(inputs.name).html}}
  multiqc: {type: Directory, outputBinding: {glob: multiqc}}
$namespaces:
  edam: http://edamontology.org/
