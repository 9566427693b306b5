#!/usr/bin/env bash
# Workflow checks of agemark (issue 7), run by .ci/run as timed steps, or by hand:
#
#   bash workflows/ci/run-workflows.sh STEP...      (from the repository root; ../shared beside it)
#
# Steps: slurm (start a one-node SLURM with ../shared/hpc/start-local-slurm.sh), venv (the
# pinned workflow engines), reference (`agemark run` on the demo cohort), snakemake-lint,
# snakemake-bad-sheet, snakemake-local, snakemake-slurm, snakemake-slurm-failure,
# snakemake-wrapper (the agemark/reads wrapper's test, local and SLURM), cwl-validate,
# cwl-run, cwl-toil-slurm, nfcore-venv (nf-core/tools), nfcore-lint (`nf-core modules lint`
# offline), nextflow-test-profile, edam-terms (EDAM formats named in CWL and meta.yml exist),
# distribution (one version, recipe lint, cargo package of the workspace, built and run),
# slurm-stop. Every check fails loudly (non-zero exit with the reason on stderr).
#
# Settings: AGEMARK (binary; default target/release/agemark), WF_VENV (default
# $HOME/.cache/agemark-peers/workflows-venv), WF_WORK (scratch; default /tmp/agemark-wf),
# SHARED (default ../shared), SHEET and BETAS (default: the CI sheet, i.e. the demo cohort's
# sheet as `agemark demo` writes it (with its synthetic reads) plus the two real HM27 IDAT samples of
# tests/data/array/hm27_idat as one IDAT batch, written to $WF_WORK/ci-sheet/ by ci_sheet below;
# and the demo's demo_betas.csv.gz).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
REPO="$(pwd)"
SHARED="${SHARED:-$REPO/../shared}"
AGEMARK="$(realpath -m "${AGEMARK:-target/release/agemark}")"
WF_VENV="${WF_VENV:-$HOME/.cache/agemark-peers/workflows-venv}"
WF_WORK="${WF_WORK:-${TMPDIR:-/tmp}/agemark-wf}"
# The demo cohort's sheet as `agemark demo` writes it, beside the inputs it writes (its
# synthetic reads among them).
DEMO_SHEET="$WF_WORK/demo/inputs/cohort/samplesheet.csv"
HM27_IDAT="$REPO/tests/data/array/hm27_idat"
SHEET="$(realpath -m "${SHEET:-$WF_WORK/ci-sheet/samplesheet.csv}")"
BETAS="$(realpath -m "${BETAS:-reference/demo/cohort/demo_betas.csv.gz}")"
REQUIREMENTS="$REPO/workflows/ci/requirements-workflows.txt"
SNAKEFILE="$REPO/workflows/snakemake/workflow/Snakefile"
SLURM_PROFILE="$REPO/workflows/snakemake/profiles/slurm"
CI_CONFIG="$REPO/workflows/ci/snakemake-ci.yaml"
REF_OUT="$WF_WORK/reference"

fail() {
    echo "run-workflows: FAILED: $*" >&2
    exit 1
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi
}

smk() { "$WF_VENV/bin/snakemake" "$@"; }

# The cohort tables (and every per-sample and methylation table) of DIR must be byte-identical to
# those `agemark run` wrote on the same sheet.
same_tables() {
    local dir="$1" what="$2" n=0 f rel
    while IFS= read -r f; do
        rel="${f#"$REF_OUT"/}"
        [[ -f "$dir/$rel" ]] || fail "$what: $rel is missing (agemark run wrote it)"
        cmp -s "$f" "$dir/$rel" || {
            diff <(head -c 3000 "$f") <(head -c 3000 "$dir/$rel") | head -20 >&2 || true
            fail "$what: $rel differs from agemark run's"
        }
        n=$((n + 1))
    done < <(find "$REF_OUT" \( -name 'cohort.*' -o -path '*/methylation/*' -o -path '*/idat/*' -o -name '*.telomere.*' -o -name '*.mtdna.*' \) -type f | sort)
    [[ $n -ge 5 ]] || fail "$what: only $n tables compared"
    echo "$what: $n tables byte-identical to agemark run's"
}

# sheet_copy SRC DST: SRC with its relative file paths made absolute (so DST can live anywhere).
# Plain CSV only (the demo sheet); agemark itself accepts quoted fields too.
sheet_copy() {
    awk -F, -v OFS=, -v dir="$(dirname "$1")" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^(reads|reads2|reference|idat|methylation_calls)$/) f[i] = 1; print; next }
        { for (i in f) if ($i != "" && $i !~ /^\//) $i = dir "/" $i; print }' "$1" >"$2"
}

# The CI sheet: the demo cohort's sheet (paths made absolute) with an `idat` column, plus the two
# real HM27 IDAT samples (TCGA ovarian tumours: sample_type other, no ages; one batch, their
# Sentrix barcode 4207113116), so every workflow run exercises the per-IDAT-batch job.
ci_sheet() {
    local d
    d="$(dirname "$SHEET")"
    mkdir -p "$d"
    [[ -f "$DEMO_SHEET" ]] || "$AGEMARK" demo --outdir "$WF_WORK/demo" -q >/dev/null ||
        fail "agemark demo (the CI sheet's inputs) exited $?"
    sheet_copy "$DEMO_SHEET" "$d/demo.abs.csv"
    awk -v idat="$HM27_IDAT" '
        NR == 1 { print $0 ",idat"; next }
        { print $0 "," }
        END {
            print "HM27-OV-A,CI-HM27-P1,,other,other,,,,,,," idat "/4207113116_A"
            print "HM27-OV-B,CI-HM27-P2,,other,other,,,,,,," idat "/4207113116_B"
        }' "$d/demo.abs.csv" >"$SHEET.tmp"
    mv "$SHEET.tmp" "$SHEET"
    rm -f "$d/demo.abs.csv"
}

step_slurm() {
    # Accounting off: no MariaDB/slurmdbd to install (faster on a fresh machine); the workflows
    # then poll with squeue (--slurm-status-command squeue).
    as_root env SLURM_ACCOUNTING="${SLURM_ACCOUNTING:-0}" bash "$SHARED/hpc/start-local-slurm.sh"
    sinfo
    srun --quiet hostname >/dev/null || fail "srun does not run a job"
}

step_slurm_stop() {
    as_root bash "$SHARED/hpc/stop-local-slurm.sh"
}

venv_ok() {
    [[ -x "$WF_VENV/bin/snakemake" && -f "$WF_VENV/.requirements" ]] &&
        cmp -s "$REQUIREMENTS" "$WF_VENV/.requirements"
}

step_venv() {
    if venv_ok; then
        echo "workflow engines already in $WF_VENV"
    else
        rm -rf "$WF_VENV"
        mkdir -p "$(dirname "$WF_VENV")"
        python3 -m venv "$WF_VENV"
        "$WF_VENV/bin/pip" install -q -r "$REQUIREMENTS"
        cp "$REQUIREMENTS" "$WF_VENV/.requirements"
    fi
    "$WF_VENV/bin/snakemake" --version
    "$WF_VENV/bin/cwltool" --version
}

step_reference() {
    [[ -x "$AGEMARK" ]] || fail "no agemark binary at $AGEMARK"
    [[ -f "$SHEET" ]] || fail "no demo cohort sheet at $SHEET"
    rm -rf "$REF_OUT"
    mkdir -p "$WF_WORK"
    "$AGEMARK" run --samplesheet "$SHEET" --betas "$BETAS" --check
    "$AGEMARK" run --samplesheet "$SHEET" --betas "$BETAS" --outdir "$REF_OUT" ||
        fail "agemark run on the demo cohort exited $?"
    ls "$REF_OUT"
}

step_snakemake_lint() {
    local d="$WF_WORK/smk-lint"
    rm -rf "$d" && mkdir -p "$d"
    # --lint exits 1 on any finding. The example config/config.yaml is read (and validated
    # against the schema) first; --config overrides its paths.
    smk -s "$SNAKEFILE" -d "$d" --configfile "$REPO/workflows/snakemake/config/config.yaml" \
        --config samplesheet="$SHEET" betas="$BETAS" agemark="$AGEMARK" --lint
}

# An invalid sheet must stop the workflow at start, with agemark's own message, before any job.
step_snakemake_bad_sheet() {
    local d="$WF_WORK/smk-bad" want got
    rm -rf "$d" && mkdir -p "$d"
    # The demo sheet with its second sample id repeated in a new row: agemark rejects duplicates.
    sheet_copy "$SHEET" "$d/good.csv"
    {
        cat "$d/good.csv"
        sed -n 2p "$d/good.csv"
    } >"$d/bad.csv"
    want="$("$AGEMARK" run --samplesheet "$d/bad.csv" --betas "$BETAS" --check 2>&1 >/dev/null)" &&
        fail "agemark run --check accepted the broken sheet"
    if smk -s "$SNAKEFILE" -d "$d" --config samplesheet="$d/bad.csv" betas="$BETAS" outdir=out agemark="$AGEMARK" \
        --cores 1 >"$d/log" 2>&1; then
        fail "snakemake accepted a sheet agemark rejects"
    fi
    got="$(cat "$d/log")"
    while IFS= read -r line; do
        [[ "$got" == *"$line"* ]] || {
            cat "$d/log" >&2
            fail "the workflow log lacks agemark's message line: $line"
        }
    done <<<"$want"
    [[ ! -e "$d/out" ]] || fail "a job ran although the sheet is invalid"
    echo "invalid sheet stopped at start with agemark's message:"
    echo "$want"
}

step_snakemake_local() {
    local d="$WF_WORK/smk-local"
    rm -rf "$d" && mkdir -p "$d"
    smk -s "$SNAKEFILE" -d "$d" --config samplesheet="$SHEET" betas="$BETAS" outdir=out agemark="$AGEMARK" \
        --cores 2 --show-failed-logs
    same_tables "$d/out" "snakemake (local, --cores 2)"
}

slurm_args() {
    local args=(--profile "$SLURM_PROFILE" --configfile "$CI_CONFIG" --default-resources slurm_account=agemark
        --slurm-init-seconds-before-status-checks 1 --latency-wait 5 --jobs 4)
    # Without accounting, the plugin's sacct polling never sees the jobs finish.
    if ! sacct -n >/dev/null 2>&1; then args+=(--slurm-status-command squeue); fi
    printf '%s\n' "${args[@]}"
}

step_snakemake_slurm() {
    local d="$WF_WORK/smk-slurm" args
    mapfile -t args < <(slurm_args)
    rm -rf "$d" && mkdir -p "$d"
    smk -s "$SNAKEFILE" -d "$d" --config samplesheet="$SHEET" betas="$BETAS" outdir=out agemark="$AGEMARK" \
        "${args[@]}" 2>&1 | tee "$d/log"
    [[ ${PIPESTATUS[0]} -eq 0 ]] || fail "snakemake on SLURM failed"
    grep -q "Job .* has been submitted with SLURM jobid" "$d/log" ||
        fail "no job went through SLURM (see $d/log)"
    same_tables "$d/out" "snakemake (SLURM)"
}

# A job failing on SLURM (a corrupt BAM) shows agemark's one-line error in the workflow's log and
# leaves none of its outputs behind; the other samples' jobs still finish (--keep-going).
step_snakemake_slurm_failure() {
    local d="$WF_WORK/smk-slurm-fail" args bad line sample
    mapfile -t args < <(slurm_args)
    rm -rf "$d" && mkdir -p "$d/sheet"
    sample="$(awk -F, 'NR==1 { for (i = 1; i <= NF; i++) if ($i == "reads") c = i; next }
        c && $c != "" { split($0, f, ","); print f[1]; exit }' "$SHEET")"
    [[ -n "$sample" ]] || fail "the demo sheet has no sample with reads"
    # A copy of the sheet whose first read sample points at a corrupt BAM (a BGZF header, then junk).
    printf '\037\213\010\004\000\000\000\000\000\377\006\000BC\002\000\033\000not a BAM at all, truncated' >"$d/sheet/corrupt.bam"
    sheet_copy "$SHEET" "$d/sheet/abs.csv"
    awk -F, -v OFS=, -v s="$sample" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "reads") c = i }
        NR > 1 && $1 == s { $c = "corrupt.bam" } { print }' "$d/sheet/abs.csv" >"$d/sheet/samplesheet.csv"
    "$AGEMARK" run --samplesheet "$d/sheet/samplesheet.csv" --betas "$BETAS" --check ||
        fail "the corrupt-input sheet should pass the sheet check (the file exists)"
    if "$AGEMARK" reads "$d/sheet/corrupt.bam" --sample-id "$sample" -o "$d/x/$sample" 2>"$d/reads.err"; then
        fail "agemark reads accepted the corrupt BAM"
    fi
    bad="$(grep '^agemark: error:' "$d/reads.err")" || fail "no one-line error from agemark reads"
    if smk -s "$SNAKEFILE" -d "$d" --config samplesheet="$d/sheet/samplesheet.csv" betas="$BETAS" outdir=out \
        agemark="$AGEMARK" "${args[@]}" --keep-going >"$d/log" 2>&1; then
        fail "snakemake on SLURM succeeded with a corrupt input"
    fi
    grep -A16 "Error in rule" "$d/log" || cat "$d/log"
    grep -qF -- "$bad" "$d/log" || fail "the workflow log lacks agemark's error: $bad"
    for f in "$d/out/$sample/$sample".{telomere,mtdna}.{tsv,parquet} "$d/out/cohort.long.tsv"; do
        [[ ! -e "$f" ]] || fail "a failed job left $f behind"
    done
    # The other samples finished; Snakemake would rerun only the failed sample and what follows.
    local others
    others="$(find "$d/out" -name '*.telomere.tsv' | wc -l)"
    [[ $others -ge 1 ]] || fail "no other sample finished (--keep-going)"
    smk -s "$SNAKEFILE" -d "$d" --config samplesheet="$d/sheet/samplesheet.csv" betas="$BETAS" outdir=out \
        agemark="$AGEMARK" -n --cores 1 >"$d/dry" 2>&1
    grep -q "reads.*1$" "$d/dry" || { cat "$d/dry"; fail "the dry run does not plan the failed sample again"; }
    echo "failed SLURM job: agemark's error in the workflow log, no partial outputs:"
    echo "$bad"
}

# The agemark/reads wrapper (workflows/snakemake/wrappers/agemark/reads, snakemake-wrappers shape)
# through its own test/Snakefile, locally and on SLURM: its tables must be byte-identical to
# those of `agemark reads` run directly with the same options.
step_snakemake_wrapper() {
    local d="$WF_WORK/smk-wrapper" test_smk where args f n
    test_smk="$REPO/workflows/snakemake/wrappers/agemark/reads/test/Snakefile"
    rm -rf "$d" && mkdir -p "$d/direct"
    "$AGEMARK" --threads 2 reads "$REPO/reference/demo/HG03478_MT.bam" --sample-id HG03478 --min-mapq 20 \
        -o "$d/direct/HG03478" 2>"$d/direct.log" || fail "agemark reads (direct) exited $?"
    mapfile -t args < <(slurm_args)
    for where in local slurm; do
        mkdir -p "$d/$where"
        if [[ $where == local ]]; then
            smk -s "$test_smk" -d "$d/$where" --wrapper-prefix "file://$REPO/workflows/snakemake/wrappers/" \
                --config agemark="$AGEMARK" --cores 2 out/HG03478.telomere.tsv >"$d/$where.log" 2>&1 ||
                { cat "$d/$where.log" >&2; fail "the wrapper's test Snakefile failed (local)"; }
        else
            smk -s "$test_smk" -d "$d/$where" --wrapper-prefix "file://$REPO/workflows/snakemake/wrappers/" \
                --config agemark="$AGEMARK" "${args[@]}" out/HG03478.telomere.tsv >"$d/$where.log" 2>&1 ||
                { cat "$d/$where.log" >&2; fail "the wrapper's test Snakefile failed on SLURM"; }
            grep -q "Job .* has been submitted with SLURM jobid" "$d/$where.log" ||
                fail "the wrapper's job did not go through SLURM (see $d/$where.log)"
        fi
        n=0
        for f in "$d"/direct/HG03478.*; do
            cmp -s "$f" "$d/$where/out/$(basename "$f")" || fail "wrapper ($where): $(basename "$f") differs from agemark reads'"
            n=$((n + 1))
        done
        [[ $n -eq 4 ]] || fail "wrapper ($where): $n tables, not 4"
        echo "agemark/reads wrapper ($where): $n tables byte-identical to agemark reads'"
    done
}

# Every CWL file validates with no warning at all (cwltool warns, among others, when it cannot
# fetch a `$schemas` ontology: the files name EDAM formats by IRI, with no `$schemas`).
step_cwl_validate() {
    local f out
    for f in workflows/cwl/*.cwl; do
        out="$("$WF_VENV/bin/cwltool" --validate "$f" 2>&1)" || { echo "$out" >&2; fail "$f is not valid CWL"; }
        if grep -q WARNING <<<"$out"; then echo "$out" >&2; fail "$f: cwltool --validate warns"; fi
        echo "$f: valid, no warning"
    done
}

# The EDAM terms of the CWL tools and Nextflow meta.yml files exist in EDAM and are current formats.
step_edam_terms() {
    "$NFCORE_VENV/bin/python" "$REPO/workflows/ci/check_edam.py" "$REPO"
}

# A CWL runner collects every output in one directory: its cohort tables and the IDAT batch
# jobs' betas and QC tables must be byte-identical to agemark run's. Sets CWL_COMPARED.
compare_cwl_out() {
    local who="$1" out="$2" f n=0
    for f in "$REF_OUT"/cohort.*; do
        cmp -s "$f" "$out/$(basename "$f")" || fail "$who: $(basename "$f") differs from agemark run's"
        n=$((n + 1))
    done
    [[ $n -ge 5 ]] || fail "$who: only $n cohort tables compared"
    for f in "$REF_OUT"/idat/*.betas.tsv.gz "$REF_OUT"/idat/*.idat_qc.tsv; do
        [[ -e "$f" ]] || continue
        cmp -s "$f" "$out/$(basename "$f")" || fail "$who: idat/$(basename "$f") differs from agemark run's"
        n=$((n + 1))
    done
    CWL_COMPARED=$n
}

step_cwl_run() {
    local d="$WF_WORK/cwl"
    rm -rf "$d" && mkdir -p "$d/bin" "$d/out"
    ln -s "$AGEMARK" "$d/bin/agemark"
    python3 workflows/cwl/samplesheet_to_job.py "$SHEET" --betas "$BETAS" --agemark "$AGEMARK" \
        --staged-sheet "$d/samplesheet.staged.csv" >"$d/job.json"
    PATH="$d/bin:$PATH" "$WF_VENV/bin/cwltool" --quiet --no-container --outdir "$d/out" \
        --tmpdir-prefix "$d/tmp/" --tmp-outdir-prefix "$d/tmp-out/" \
        workflows/cwl/agemark-cohort.cwl "$d/job.json" >"$d/outputs.json" ||
        fail "cwltool on the demo cohort failed"
    compare_cwl_out cwl "$d/out"
    [[ -s "$d/out/report.html" ]] || fail "cwl: no report.html"
    echo "cwltool: $CWL_COMPARED cohort and IDAT batch tables byte-identical to agemark run's"
}

# The same CWL Workflow on SLURM through toil (every step a SLURM job; the venv's bin/ must be on
# PATH in the jobs for toil's _toil_worker).
step_cwl_toil_slurm() {
    local d="$WF_WORK/toil" before after
    rm -rf "$d" && mkdir -p "$d/bin" "$d/out"
    ln -s "$AGEMARK" "$d/bin/agemark"
    python3 workflows/cwl/samplesheet_to_job.py "$SHEET" --betas "$BETAS" --agemark "$AGEMARK" \
        --staged-sheet "$d/samplesheet.staged.csv" >"$d/job.json"
    before="$(grep -c 'Name=toil_job' /var/log/slurm/jobcomp.log 2>/dev/null || true)"
    (cd "$d" && PATH="$d/bin:$WF_VENV/bin:$PATH" timeout 600 "$WF_VENV/bin/toil-cwl-runner" \
        --batchSystem slurm --no-container --jobStore "$d/js" --workDir "$d" --outdir "$d/out" \
        --logWarning "$REPO/workflows/cwl/agemark-cohort.cwl" "$d/job.json" >"$d/outputs.json") ||
        fail "toil-cwl-runner on SLURM failed"
    after="$(grep -c 'Name=toil_job' /var/log/slurm/jobcomp.log 2>/dev/null || true)"
    [[ $((after - ${before:-0})) -ge 5 ]] || fail "toil ran fewer than 5 SLURM jobs ($before -> $after)"
    compare_cwl_out toil "$d/out"
    echo "toil-cwl-runner on SLURM ($((after - before)) jobs): $CWL_COMPARED cohort and IDAT batch tables byte-identical to agemark run's"
}

# nf-core/tools in its own venv (its pins clash with the workflow engines').
NFCORE_VENV="${NFCORE_VENV:-$HOME/.cache/agemark-peers/nf-core-venv}"
NFCORE_REQUIREMENTS="$REPO/workflows/ci/nf-core/requirements-nf-core.txt"

step_nfcore_venv() {
    if [[ -x "$NFCORE_VENV/bin/nf-core" ]] && cmp -s "$NFCORE_REQUIREMENTS" "$NFCORE_VENV/.requirements"; then
        echo "nf-core/tools already in $NFCORE_VENV"
    else
        rm -rf "$NFCORE_VENV"
        mkdir -p "$(dirname "$NFCORE_VENV")"
        python3 -m venv "$NFCORE_VENV"
        "$NFCORE_VENV/bin/pip" install -q -r "$NFCORE_REQUIREMENTS"
        cp "$NFCORE_REQUIREMENTS" "$NFCORE_VENV/.requirements"
    fi
    "$NFCORE_VENV/bin/nf-core" --version 2>/dev/null | grep -m1 -o 'version [0-9.]*'
}

# The lint warnings that are known and said why (module regex, test); any other warning or any
# failure fails the step.
#  - bioconda_version: looked up on anaconda.org, unreachable here; and agemark is not on
#    bioconda yet (recipes/agemark is the recipe to submit).
#  - main_nf_version_topic / main_nf_version_emit: the modules write versions.yml (the older
#    nf-core convention) because tests/suite/workflows_nextflow.rs runs each module's script and
#    checks versions.yml; the `topic: versions` + eval() form needs that test to parse it first.
#  - main_nf_meta_key on idat: the batch's prefixes and sample ids travel in meta (meta.prefixes,
#    meta.sample_ids), set by the subworkflow from agemark's IDAT plan.
NFCORE_KNOWN_WARNINGS='^agemark/[a-z0-9]+ (bioconda_version|main_nf_version_topic|main_nf_version_emit)$|^agemark/idat main_nf_meta_key$'

# `nf-core modules lint --local` of workflows/nextflow/modules/local/agemark/* with no network: a
# stand-in `nextflow` on PATH (workflows/ci/nf-core/fake-nextflow: -v, config, inspect) and the
# nf-core/modules schemas from a local git repository (workflows/ci/nf-core/modules-repo) cloned
# where nf-core/tools keeps its modules repository ($XDG_CONFIG_HOME/nfcore/nf-core/modules).
step_nfcore_lint() {
    local d="$WF_WORK/nfcore" log rc=0 unknown n_pass n_warn n_fail
    rm -rf "$d" && mkdir -p "$d/bin" "$d/config/nfcore/nf-core" "$d/home"
    cp "$REPO/workflows/ci/nf-core/fake-nextflow" "$d/bin/nextflow"
    chmod +x "$d/bin/nextflow"
    cp -r "$REPO/workflows/ci/nf-core/modules-repo" "$d/origin"
    git -C "$d/origin" init -q -b master
    git -C "$d/origin" add -A
    git -C "$d/origin" -c user.name=agemark-ci -c user.email=ci@localhost commit -q -m "nf-core module schemas"
    git clone -q "$d/origin" "$d/config/nfcore/nf-core/modules"
    # A copy of the pipeline directory: nf-core/tools writes modules.json into the one it lints.
    cp -r "$REPO/workflows/nextflow" "$d/pipeline"
    log="$d/lint.log"
    (cd "$d/pipeline" && HOME="$d/home" XDG_CONFIG_HOME="$d/config" XDG_CACHE_HOME="$d/cache" \
        PATH="$d/bin:$PATH" HIDE_PROGRESS=1 NF_CORE_LINT_OUTPUT=1 COLUMNS=200 \
        "$NFCORE_VENV/bin/nf-core" modules lint --all --local --dir .) >"$log" 2>&1 || rc=$?
    n_pass="$(sed -n 's/.*\[✔\] *\([0-9]*\) Tests\? Passed.*/\1/p' "$log")"
    n_warn="$(sed -n 's/.*\[!\] *\([0-9]*\) Tests\? Warnings\?.*/\1/p' "$log")"
    n_fail="$(sed -n 's/.*\[✗\] *\([0-9]*\) Tests\? Failed.*/\1/p' "$log")"
    [[ $rc -eq 0 && -n "$n_pass" && "${n_fail:-0}" -eq 0 ]] || { cat "$log" >&2; fail "nf-core modules lint: exit $rc, ${n_fail:-?} failed"; }
    unknown="$(grep -E '^agemark/[a-z0-9]+ [a-z_]+$' "$log" | grep -Ev "$NFCORE_KNOWN_WARNINGS" || true)"
    [[ -z "$unknown" ]] || { cat "$log" >&2; fail "nf-core modules lint warned beyond the known offline/legacy warnings: $unknown"; }
    grep -E '^agemark/[a-z0-9]+ [a-z_]+$' "$log" | awk '{ print $2 }' | sort | uniq -c | sed 's/^/  known warning: /'
    echo "nf-core modules lint (offline, $(ls "$REPO/workflows/nextflow/modules/local/agemark" | wc -l) modules): $n_pass passed, ${n_warn:-0} warned (all known), 0 failed"
}

# Nextflow's `-profile test` sets every parameter AGEMARK_CHECK needs: the params of the test
# profile in nextflow.config (read as plain `params.NAME = "VALUE"` lines, ${launchDir} replaced),
# on the demo cohort `agemark demo` writes, passed as main.nf passes them, pass `agemark run --check`.
step_nextflow_test_profile() {
    local d="$WF_WORK/nf-test-profile" input betas
    rm -rf "$d" && mkdir -p "$d"
    local profile
    profile="$(awk '/^    test \{/ { p = 1; next } p && /^    \}/ { exit } p' "$REPO/workflows/nextflow/nextflow.config")"
    param() { sed -n "s/^ *params\.$1 *= *\"\(.*\)\"\$/\1/p" <<<"$profile" | sed "s|\${launchDir}|$d|"; }
    input="$(param input)"
    betas="$(param betas)"
    [[ -n "$input" && -n "$betas" ]] || fail "the test profile does not set params.input and params.betas"
    (cd "$d" && "$AGEMARK" demo --outdir agemark-demo -q >/dev/null)
    (cd "$d" && "$AGEMARK" run --samplesheet "$input" --betas "$betas" --check --plan idat_plan.tsv) ||
        fail "agemark run --check on -profile test's parameters failed"
    echo "-profile test: params.input and params.betas pass AGEMARK_CHECK's agemark run --check"
}

# Release hygiene: one version everywhere and the conda recipe's lint (check_distribution.py);
# `cargo package` of the whole workspace as crates.io would receive it: each .crate under
# crates.io's 10 MiB (the embedded reference data ships in the four crates/data-* crates), the
# packaged crates built against each other from cargo's temporary local registry (verification,
# ~80 s: nothing outside the .crate files is reachable), and the demo run by that build gives
# the same tables as the repository's binary.
step_distribution() {
    local d="$WF_WORK/package" crate size over=0 t0
    "$NFCORE_VENV/bin/python" "$REPO/workflows/ci/check_distribution.py" "$REPO"
    rm -rf "$d" && mkdir -p "$d"
    t0=$SECONDS
    (cd "$REPO" && CARGO_TARGET_DIR="$d/target" cargo package --workspace --locked --allow-dirty -q) ||
        fail "cargo package --workspace (with verification) failed"
    for crate in "$d"/target/package/*.crate; do
        size="$(stat -c %s "$crate")"
        echo "$(basename "$crate"): $(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }') MiB"
        [[ $size -le 10485760 ]] || { echo "  over crates.io's 10 MiB limit" >&2; over=1; }
    done
    [[ $over -eq 0 ]] || fail "a crate is over crates.io's 10 MiB limit"
    echo "cargo package --workspace: packaged and verified (the packaged crates built from the local registry) in $((SECONDS - t0)) s"
    "$d/target/debug/agemark" demo --outdir "$d/demo-packaged" -q >/dev/null
    "$AGEMARK" demo --outdir "$d/demo-repo" -q >/dev/null
    (cd "$d/demo-packaged" && find . -name '*.tsv' | sort | xargs md5sum) >"$d/packaged.md5"
    (cd "$d/demo-repo" && find . -name '*.tsv' | sort | xargs md5sum) >"$d/repo.md5"
    cmp -s "$d/packaged.md5" "$d/repo.md5" ||
        fail "the demo built from the packaged crates differs from the repository's: $(diff "$d/packaged.md5" "$d/repo.md5" | head -5)"
    echo "the binary built from the packaged crates runs the demo: its $(wc -l <"$d/repo.md5") tables are byte-identical to the repository binary's"
}

[[ $# -gt 0 ]] || { sed -n 2,20p "$0"; exit 2; }
# The default sheet is generated (cheap, deterministic) before any step that reads it.
[[ "$SHEET" != "$(realpath -m "$WF_WORK/ci-sheet/samplesheet.csv")" ]] || ci_sheet
for s in "$@"; do
    "step_${s//-/_}"
done
