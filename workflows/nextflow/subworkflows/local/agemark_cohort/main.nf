//
// agemark on a cohort: validate the sheet first, one job per sample for the read stages, one
// job per IDAT batch (batches as agemark plans them), ONE cohort job for the methylation
// stages, then merge the tables and write the report.
//
include { AGEMARK_CHECK  } from '../../../modules/local/agemark/check/main'
include { AGEMARK_READS  } from '../../../modules/local/agemark/reads/main'
include { AGEMARK_IDAT   } from '../../../modules/local/agemark/idat/main'
include { AGEMARK_RUN    } from '../../../modules/local/agemark/run/main'
include { AGEMARK_MERGE  } from '../../../modules/local/agemark/merge/main'
include { AGEMARK_REPORT } from '../../../modules/local/agemark/report/main'

workflow AGEMARK_COHORT {

    take:
    ch_samplesheet   // channel: path(samplesheet), one item
    ch_sheet_inputs  // channel: [ path, ... ] every file the sheet points to, one item
    ch_reads         // channel: [ val(meta), [ reads ], reference or [] ]
    ch_idat          // channel: [ sample_id, prefix or directory name, [ IDAT files ] ]
    ch_betas         // channel: path(betas) or [], one item
    run_methylation  // boolean: the sheet or --betas has methylation data

    main:
    ch_versions = Channel.empty()

    // Nothing else starts before agemark has accepted the sheet.
    AGEMARK_CHECK ( ch_samplesheet, ch_sheet_inputs, ch_betas )
    ch_sheet = AGEMARK_CHECK.out.samplesheet.first()
    ch_versions = ch_versions.mix(AGEMARK_CHECK.out.versions)

    AGEMARK_READS (
        ch_reads.combine(ch_sheet).map { meta, reads, reference, _sheet -> [ meta, reads, reference ] }
    )
    ch_versions = ch_versions.mix(AGEMARK_READS.out.versions.first())

    ch_tables = AGEMARK_READS.out.telomere_tsv.map { _meta, tsv -> tsv }
        .mix(AGEMARK_READS.out.mtdna_tsv.map { _meta, tsv -> tsv })

    // One job per IDAT batch of agemark's plan (batch, sample_id, idat), as `agemark run` runs
    // it. The matrices' column order follows the IDAT names, so the order within a group does
    // not matter; ids and prefixes stay paired.
    ch_idat_batches = AGEMARK_CHECK.out.plan
        .splitCsv(header: true, sep: '\t')
        .map { row -> [ row.sample_id, row.batch ] }
        .join(ch_idat)
        .map { sample_id, batch, name, files -> [ batch, sample_id, name, files ] }
        .groupTuple()
        .map { batch, ids, names, files ->
            [ [ id: batch, prefixes: names.join(' '), sample_ids: ids.join(',') ], files.flatten() ]
        }
    AGEMARK_IDAT ( ch_idat_batches )
    ch_versions = ch_versions.mix(AGEMARK_IDAT.out.versions.first())
    ch_tables = ch_tables.mix(AGEMARK_IDAT.out.qc_tsv.map { _meta, tsv -> tsv })

    if (run_methylation) {
        AGEMARK_RUN (
            ch_sheet.combine(ch_betas).map { sheet, betas -> [ [ id:'cohort' ], sheet, betas ] },
            ch_sheet_inputs,
            AGEMARK_IDAT.out.betas.map { _meta, betas -> betas }.collect().ifEmpty([])
        )
        ch_tables = ch_tables.mix(AGEMARK_RUN.out.tsv.map { _meta, tsv -> tsv }.flatten())
        ch_versions = ch_versions.mix(AGEMARK_RUN.out.versions)
    }

    AGEMARK_MERGE (
        ch_tables.collect().map { tables -> [ [ id:'cohort' ], tables ] },
        ch_sheet
    )
    ch_versions = ch_versions.mix(AGEMARK_MERGE.out.versions)

    ch_cohort = AGEMARK_MERGE.out.long_tsv
        .join(AGEMARK_MERGE.out.long_parquet)
        .join(AGEMARK_MERGE.out.wide_tsv)
        .join(AGEMARK_MERGE.out.columns_tsv)
        .join(AGEMARK_MERGE.out.dyads_tsv)
        .map { meta, long, parquet, wide, columns, dyads -> [ meta, [ long, parquet, wide, columns, dyads ] ] }
    AGEMARK_REPORT ( ch_cohort, ch_sheet )
    ch_versions = ch_versions.mix(AGEMARK_REPORT.out.versions)

    emit:
    long_tsv = AGEMARK_MERGE.out.long_tsv   // channel: [ val(meta), path(cohort.long.tsv) ]
    wide_tsv = AGEMARK_MERGE.out.wide_tsv   // channel: [ val(meta), path(cohort.wide.tsv) ]
    html     = AGEMARK_REPORT.out.html      // channel: [ val(meta), path(cohort.html) ]
    multiqc  = AGEMARK_REPORT.out.multiqc   // channel: [ val(meta), [ path(*_mqc.*) ] ]
    versions = ch_versions                  // channel: [ path(versions.yml) ]
}
