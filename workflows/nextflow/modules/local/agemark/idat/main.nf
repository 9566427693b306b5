process AGEMARK_IDAT {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "localhost/agemark:0.1.0"

    input:
    tuple val(meta), path(idats)

    output:
    tuple val(meta), path("*.betas.tsv.gz")    , emit: betas
    tuple val(meta), path("*.detection.tsv.gz"), emit: detection
    tuple val(meta), path("*.idat_qc.tsv")     , emit: qc_tsv
    tuple val(meta), path("*.idat_qc.parquet") , emit: qc_parquet
    path "versions.yml"                        , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    agemark \\
        --threads $task.cpus \\
        idat \\
        ${meta.prefixes} \\
        --sample-ids ${meta.sample_ids} \\
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
    touch ${prefix}.betas.tsv.gz
    touch ${prefix}.detection.tsv.gz
    touch ${prefix}.idat_qc.tsv
    touch ${prefix}.idat_qc.parquet

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """
}
