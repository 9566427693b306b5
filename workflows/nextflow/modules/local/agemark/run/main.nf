process AGEMARK_RUN {
    tag "$meta.id"
    label 'process_high'

    conda "${moduleDir}/environment.yml"
    container "localhost/agemark:0.1.0"

    input:
    tuple val(meta), path(samplesheet), path(betas)
    path inputs
    path idat_betas

    output:
    tuple val(meta), path("methylation/*.tsv")    , emit: tsv         , optional: true
    tuple val(meta), path("methylation/*.parquet"), emit: parquet     , optional: true
    tuple val(meta), path("*/*.telomere.*")       , emit: telomere    , optional: true
    tuple val(meta), path("*/*.mtdna.*")          , emit: mtdna       , optional: true
    tuple val(meta), path("*/*.failed.tsv")       , emit: failed      , optional: true
    tuple val(meta), path("cohort.*")             , emit: cohort
    tuple val(meta), path("failures.tsv")         , emit: failures
    tuple val(meta), path("report.html")          , emit: html
    tuple val(meta), path("multiqc/*")            , emit: multiqc
    tuple val(meta), path("run_manifest.tsv")     , emit: manifest
    path "versions.yml"                           , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def beta_matrix = betas ? "--betas ${betas}" : ''
    def idat_dir = idat_betas ? '--idat-dir .' : ''
    """
    agemark \\
        --threads $task.cpus \\
        run \\
        --samplesheet $samplesheet \\
        $beta_matrix \\
        $idat_dir \\
        $args \\
        --outdir .

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """

    stub:
    """
    mkdir -p methylation multiqc
    touch methylation/cohort.clocks.tsv
    touch methylation/cohort.clocks.parquet
    touch methylation/cohort.exposure.tsv
    touch methylation/cohort.exposure.parquet
    touch methylation/cohort.celltypes.tsv
    touch methylation/cohort.celltypes.parquet
    touch methylation/cohort.identity.tsv
    touch methylation/cohort.identity.parquet
    touch methylation/cohort.nr3c1.tsv
    touch methylation/cohort.nr3c1.parquet
    touch cohort.long.tsv
    touch cohort.long.parquet
    touch cohort.wide.tsv
    touch cohort.columns.tsv
    touch cohort.dyads.tsv
    touch cohort.sample_qc.tsv
    touch cohort.sample_qc.parquet
    touch failures.tsv
    touch report.html
    touch multiqc/agemark_celltypes_mqc.tsv
    touch multiqc/agemark_clocks_mqc.tsv
    touch multiqc/agemark_nr3c1_mqc.tsv
    touch multiqc/agemark_general_stats_mqc.tsv
    touch multiqc/agemark_qc_mqc.json
    touch run_manifest.tsv

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """
}
