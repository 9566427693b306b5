process AGEMARK_NR3C1 {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "localhost/agemark:0.1.0"

    input:
    tuple val(meta), path(betas)

    output:
    tuple val(meta), path("*.nr3c1.tsv")    , emit: tsv
    tuple val(meta), path("*.nr3c1.parquet"), emit: parquet
    path "versions.yml"                      , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    agemark \\
        --threads $task.cpus \\
        nr3c1 \\
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
    touch ${prefix}.nr3c1.tsv
    touch ${prefix}.nr3c1.parquet

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """
}
