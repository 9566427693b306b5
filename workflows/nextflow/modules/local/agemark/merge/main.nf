process AGEMARK_MERGE {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "localhost/agemark:0.1.0"

    input:
    tuple val(meta), path(tables)
    path samplesheet

    output:
    tuple val(meta), path("*.long.tsv")    , emit: long_tsv
    tuple val(meta), path("*.long.parquet"), emit: long_parquet
    tuple val(meta), path("*.wide.tsv")    , emit: wide_tsv
    tuple val(meta), path("*.columns.tsv") , emit: columns_tsv
    tuple val(meta), path("*.dyads.tsv")   , emit: dyads_tsv
    tuple val(meta), path("*.sample_qc.tsv"), emit: sample_qc_tsv
    tuple val(meta), path("*.sample_qc.parquet"), emit: sample_qc_parquet
    path "versions.yml"                    , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def sheet = samplesheet ? "--samplesheet ${samplesheet}" : ''
    """
    agemark \\
        --threads $task.cpus \\
        merge \\
        $tables \\
        $sheet \\
        $args \\
        -o ${prefix}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.long.tsv
    touch ${prefix}.long.parquet
    touch ${prefix}.wide.tsv
    touch ${prefix}.columns.tsv
    touch ${prefix}.dyads.tsv
    touch ${prefix}.sample_qc.tsv
    touch ${prefix}.sample_qc.parquet

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """
}
