process AGEMARK_RUN {
    tag "$meta.id"
    label 'process_high'

    input:
    tuple val(meta), path(samplesheet), path(betas)
    path inputs

    output:
    tuple val(meta), path("methylation/*.tsv")    , emit: tsv
    tuple val(meta), path("methylation/*.parquet"), emit: parquet
    path "versions.yml"                           , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def beta_matrix = betas ? "--betas ${betas}" : ''
    """
    agemark \\
        --threads $task.cpus \\
        run \\
        --samplesheet $samplesheet \\
        $beta_matrix \\
        $args \\
        --outdir .

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """

    stub:
    """
    mkdir -p methylation
    touch methylation/cohort.clocks.tsv
    touch methylation/cohort.clocks.parquet

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """
}
