process AGEMARK_CELLTYPES {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "localhost/agemark:0.1.0"

    input:
    tuple val(meta), path(betas)

    output:
    tuple val(meta), path("*.celltypes.tsv")    , emit: tsv
    tuple val(meta), path("*.celltypes.parquet"), emit: parquet
    path "versions.yml"                      , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    agemark \\
        --threads $task.cpus \\
        celltypes \\
        $betas \\
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
    touch ${prefix}.celltypes.tsv
    touch ${prefix}.celltypes.parquet

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """
}
