process AGEMARK_CHECK {
    tag "$samplesheet"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container "localhost/agemark:0.1.0"

    input:
    path samplesheet
    path inputs
    path betas

    output:
    path samplesheet     , emit: samplesheet
    path "idat_plan.tsv" , emit: plan
    path "versions.yml"  , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def beta_matrix = betas ? "--betas ${betas}" : ''
    """
    agemark \\
        run \\
        --samplesheet $samplesheet \\
        $beta_matrix \\
        $args \\
        --check \\
        --plan idat_plan.tsv

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """

    stub:
    """
    touch idat_plan.tsv

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        agemark: \$(agemark --version | sed 's/^agemark //')
    END_VERSIONS
    """
}
