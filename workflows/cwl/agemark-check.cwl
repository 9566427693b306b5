#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: "agemark run --check: validate a sample sheet (all problems at once) before anything runs"
doc: |
  Exits 0 with "SHEET: ok (N samples)" on stdout, or 1 with every problem (line numbers) on stderr.
  The sheet's files must sit where its relative paths say (they are resolved against its directory):
  give them as `inputs` so they are staged beside it.
requirements:
  InlineJavascriptRequirement: {}
  InitialWorkDirRequirement:
    listing:
      - $(inputs.samplesheet)
      - $(inputs.inputs)
hints:
  DockerRequirement:
    dockerPull: agemark:latest
baseCommand: [agemark, run, --check]
arguments:
  - {prefix: --outdir, valueFrom: agemark-check}
  - {prefix: --samplesheet, valueFrom: $(inputs.samplesheet.basename)}
inputs:
  samplesheet: {type: File, doc: "The sample sheet of `agemark run` (CSV or TSV)"}
  inputs: {type: "File[]", default: [], doc: "Every file the sheet points to"}
  betas: {type: File?, inputBinding: {prefix: --betas}}
stdout: check.txt
outputs:
  report: {type: stdout}
