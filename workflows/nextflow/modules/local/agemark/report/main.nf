process AGEMARK_REPORT {
    tag "$meta.id"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container "localhost/agemark:0.1.0"

    input:
    tuple val(meta), path(tables)
    path samplesheet

    output:
    tuple val(meta), path("*.html")       , emit: html
    tuple val(meta), path("multiqc/*_mqc*"), emit: multiqc
    path "versions.yml"                   , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def sheet = samplesheet ? "--samplesheet ${samplesheet}" : ''
    """
    agemark \\
        --threads $task.cpus \\
        report \\
        . \\
        $sheet \\
        $args \\
        -o ${prefix}.html

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir -p multiqc
    touch ${prefix}.html
    touch multiqc/agemark_telomere_mqc.tsv
    touch multiqc/agemark_mtdna_mqc.tsv
    touch multiqc/agemark_celltypes_mqc.tsv
    touch multiqc/agemark_clocks_mqc.tsv
    touch multiqc/agemark_nr3c1_mqc.tsv
    touch multiqc/agemark_general_stats_mqc.tsv
    touch multiqc/agemark_qc_mqc.json

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """
}
