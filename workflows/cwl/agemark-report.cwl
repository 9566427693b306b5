#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark report: self-contained HTML report and MultiQC files of the cohort tables"
requirements:
  InlineJavascriptRequirement: {}
  InitialWorkDirRequirement:
    listing: $(inputs.tables)
hints:
  DockerRequirement:
    dockerPull: agemark:latest
baseCommand: [agemark]
arguments:
  - {position: 0, prefix: --threads, valueFrom: $(inputs.threads)}
  - {position: 1, valueFrom: report}
  - {position: 2, valueFrom: .}
  - {position: 4, prefix: -o, valueFrom: $(inputs.name).html}
inputs:
  tables: {type: "File[]", doc: "The cohort tables of agemark merge"}
  samplesheet: {type: File?, inputBinding: {position: 3, prefix: --samplesheet}}
  name: {type: string, default: report}
  threads: {type: int, default: 1}
outputs:
  html: {type: File, outputBinding: {glob: $(inputs.name).html}}
  multiqc: {type: Directory, outputBinding: {glob: multiqc}}
