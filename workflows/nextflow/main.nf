#!/usr/bin/env nextflow
/*
 * agemark on a cohort with Nextflow (DSL2).
 *
 *   nextflow run workflows/nextflow/main.nf --input samplesheet.csv [--betas betas.csv] --outdir results -profile slurm
 *
 * The sample sheet is the one of `agemark run`; it is validated by `agemark run --check` before
 * any other job starts. NOTE: Nextflow cannot be installed on agemark's build machines, so this
 * workflow is checked by tests/suite/workflows_nextflow.rs (every module's command lines run against
 * the real agemark), not executed there. See workflows/README.md.
 */
nextflow.enable.dsl = 2

include { AGEMARK_COHORT } from './subworkflows/local/agemark_cohort/main'

// Relative paths in the sheet are resolved against the sheet's directory (as agemark does).
def sheetPath(sheet, value) {
    value ? sheet.parent.resolve(value) : null
}

// The columns of the sheet that name files.
def FILE_COLUMNS = [ 'reads', 'reads2', 'reference', 'idat', 'methylation_calls' ]

// The files of a sheet path: an IDAT prefix names its _Grn/_Red files, anything else itself.
def sheetFiles(sheet, column, value) {
    def p = sheetPath(sheet, value)
    (column == 'idat' && !p.isDirectory()) ? files("${p}_{Grn,Red}.idat*") : [ p ]
}

// A CSV/TSV cell, quoted when it needs to be.
def cell(value, sep) {
    def v = value ?: ''
    (v.contains(sep) || v.contains('"')) ? '"' + v.replace('"', '""') + '"' : v
}

workflow {
    if (!params.input) {
        error "give the sample sheet: --input samplesheet.csv"
    }
    def sheet = file(params.input, checkIfExists: true)
    def sep = sheet.readLines()[0].contains('\t') ? '\t' : ','
    def header = sheet.readLines()[0].replace('\uFEFF', '').split(sep as String).collect { it.trim() }

    ch_rows = Channel.fromPath(sheet)
        .splitCsv(header: true, sep: sep, strip: true)
        .map { row -> row.collectEntries { k, v -> [ (k.replace('\uFEFF', '')): v ] } }
        .filter { row -> row.values().any { it } }

    ch_reads = ch_rows
        .filter { row -> row.reads }
        .map { row ->
            def reads = [ sheetPath(sheet, row.reads) ] + (row.reads2 ? [ sheetPath(sheet, row.reads2) ] : [])
            [ [ id: row.sample_id ], reads, row.reference ? sheetPath(sheet, row.reference) : [] ]
        }

    // Tasks see the sheet staged in their work directory, where its relative paths (resolved by
    // agemark against the sheet's directory) point nowhere: the staged sheet names every file by
    // its base name, and the files are staged beside it.
    ch_sheet_inputs = ch_rows
        .flatMap { row -> FILE_COLUMNS.findAll { row[it] }.collectMany { sheetFiles(sheet, it, row[it]) } }
        .unique()
        .collect()
        .ifEmpty([])
    ch_staged_sheet = ch_rows
        .map { row -> header.collect { c -> cell(c in FILE_COLUMNS && row[c] ? file(row[c]).name : row[c], sep) }.join(sep) }
        .collectFile(name: 'samplesheet.staged.' + sheet.extension, seed: header.join(sep), newLine: true, sort: false)

    // IDAT samples: [ sample_id, staged prefix (or directory) name, [ files ] ]; the batches
    // come from agemark's own plan (AGEMARK_CHECK), joined by sample_id.
    ch_idat = ch_rows
        .filter { row -> row.idat }
        .map { row -> [ row.sample_id, sheetPath(sheet, row.idat).name, sheetFiles(sheet, 'idat', row.idat) ] }

    def betas = params.betas ? file(params.betas, checkIfExists: true) : []
    def has_methylation = params.betas || header.any { it in [ 'idat', 'methylation_calls' ] }

    AGEMARK_COHORT (
        ch_staged_sheet,
        ch_sheet_inputs,
        ch_reads,
        ch_idat,
        Channel.value(betas),
        has_methylation
    )
}
