process AGEMARK_READS {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "localhost/agemark:0.1.0"

    input:
    tuple val(meta), path(reads), path(reference)

    output:
    tuple val(meta), path("*.telomere.tsv")    , emit: telomere_tsv
    tuple val(meta), path("*.telomere.parquet"), emit: telomere_parquet
    tuple val(meta), path("*.mtdna.tsv")       , emit: mtdna_tsv
    tuple val(meta), path("*.mtdna.parquet")   , emit: mtdna_parquet
    path "versions.yml"                        , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def ref = reference ? "--reference ${reference}" : ''
    """
    agemark \\
        --threads $task.cpus \\
        reads \\
        $reads \\
        $ref \\
        --sample-id ${meta.id} \\
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
    touch ${prefix}.telomere.tsv
    touch ${prefix}.telomere.parquet
    touch ${prefix}.mtdna.tsv
    touch ${prefix}.mtdna.parquet

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """
}
