process AGEMARK_CLOCKS {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "localhost/agemark:0.1.0"

    input:
    tuple val(meta), path(betas)
    path samplesheet

    output:
    tuple val(meta), path("*.clocks.tsv")    , emit: tsv
    tuple val(meta), path("*.clocks.parquet"), emit: parquet
    path "versions.yml"                      , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def sheet = samplesheet ? "--samplesheet ${samplesheet}" : ''
    """
    agemark \\
        --threads $task.cpus \\
        clocks \\
        $betas \\
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
    touch ${prefix}.clocks.tsv
    touch ${prefix}.clocks.parquet

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """
}
