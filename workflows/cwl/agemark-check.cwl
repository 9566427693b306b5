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
  SoftwareRequirement:
    packages:
      agemark:
        version: ["0.1.0"]
        specs: ["https://github.com/agemark/agemark"]
  DockerRequirement:
    # The image workflows/containers/build-image.sh builds (in no registry: build or load it first).
    dockerPull: localhost/agemark:0.1.0
baseCommand: [agemark, run, --check]
arguments:
  - {prefix: --outdir, valueFrom: agemark-check}
  - {prefix: --samplesheet, valueFrom: $(inputs.samplesheet.basename)}
inputs:
  samplesheet: {type: File, format: [edam:format_3752, edam:format_3475], doc: "The sample sheet of `agemark run` (CSV or TSV)"}
  inputs: {type: "File[]", default: [], doc: "Every file the sheet points to"}
  betas: {type: File?, format: [edam:format_3752, edam:format_3475], inputBinding: {prefix: --betas}}
stdout: check.txt
outputs:
  report: {type: stdout, format: edam:format_2330}
$namespaces:
  edam: http://edamontology.org/
