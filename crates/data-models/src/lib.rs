//! Epigenetic clock and exposure-score coefficients, cell-type reference panels, NR3C1 probes,
//! methylation QC tables, contig aliases and subtelomeric bands embedded by agemark.
//!
//! Every file of `reference/clocks/`, `reference/scores/`, `reference/celltypes/`,
//! `reference/nr3c1/`, `reference/qc/`, `reference/contigs/`, `reference/telomere/` in the agemark
//! repository, as bytes compiled into the crate. The files, their provenance and licences live in
//! the repository's `reference/` (this crate reaches it through a symbolic link; `cargo package`
//! copies the files themselves). agemark looks a file up by name at compile time
//! (`agemark::core::embedded`), so a misspelt or missing name does not build. A test there fails if a file of the directory is not listed here.
#![no_std]

/// The files of `reference/clocks/`: (path within the directory, contents).
pub const CLOCKS: &[(&str, &[u8])] = &[
    (
        "MANIFEST.sha256",
        include_bytes!("../clocks/MANIFEST.sha256"),
    ),
    ("PROVENANCE.md", include_bytes!("../clocks/PROVENANCE.md")),
    (
        "applicability.tsv",
        include_bytes!("../clocks/applicability.tsv"),
    ),
    (
        "bohlin2016_ga.csv",
        include_bytes!("../clocks/bohlin2016_ga.csv"),
    ),
    ("clocks.tsv", include_bytes!("../clocks/clocks.tsv")),
    (
        "dunedinpace2022.csv",
        include_bytes!("../clocks/dunedinpace2022.csv"),
    ),
    (
        "dunedinpace2022_gold_standard_means.csv.gz",
        include_bytes!("../clocks/dunedinpace2022_gold_standard_means.csv.gz"),
    ),
    (
        "dunedinpace2022_model_means.csv",
        include_bytes!("../clocks/dunedinpace2022_model_means.csv"),
    ),
    (
        "haftorn2021_ga.csv",
        include_bytes!("../clocks/haftorn2021_ga.csv"),
    ),
    ("hannum2013.csv", include_bytes!("../clocks/hannum2013.csv")),
    (
        "horvath2013.csv",
        include_bytes!("../clocks/horvath2013.csv"),
    ),
    (
        "horvath_skinblood2018.csv",
        include_bytes!("../clocks/horvath_skinblood2018.csv"),
    ),
    (
        "knight2016_ga.csv",
        include_bytes!("../clocks/knight2016_ga.csv"),
    ),
    (
        "lee2019_cpc.csv",
        include_bytes!("../clocks/lee2019_cpc.csv"),
    ),
    (
        "lee2019_rpc.csv",
        include_bytes!("../clocks/lee2019_rpc.csv"),
    ),
    (
        "lee2019_rrpc.csv",
        include_bytes!("../clocks/lee2019_rrpc.csv"),
    ),
    ("lin2016.csv", include_bytes!("../clocks/lin2016.csv")),
    (
        "lu2019_dnamtl.csv",
        include_bytes!("../clocks/lu2019_dnamtl.csv"),
    ),
    (
        "mayne2017_ga.csv",
        include_bytes!("../clocks/mayne2017_ga.csv"),
    ),
    ("pedbe2019.csv", include_bytes!("../clocks/pedbe2019.csv")),
    (
        "phenoage2018.csv",
        include_bytes!("../clocks/phenoage2018.csv"),
    ),
    (
        "weidner2014.csv",
        include_bytes!("../clocks/weidner2014.csv"),
    ),
    ("wu2019.csv", include_bytes!("../clocks/wu2019.csv")),
    (
        "zhang2017_mortality.csv",
        include_bytes!("../clocks/zhang2017_mortality.csv"),
    ),
    (
        "zhang2019_blup.csv.gz",
        include_bytes!("../clocks/zhang2019_blup.csv.gz"),
    ),
    (
        "zhang2019_en.csv",
        include_bytes!("../clocks/zhang2019_en.csv"),
    ),
];

/// The files of `reference/scores/`: (path within the directory, contents).
pub const SCORES: &[(&str, &[u8])] = &[
    (
        "MANIFEST.sha256",
        include_bytes!("../scores/MANIFEST.sha256"),
    ),
    ("PROVENANCE.md", include_bytes!("../scores/PROVENANCE.md")),
    (
        "applicability.tsv",
        include_bytes!("../scores/applicability.tsv"),
    ),
    (
        "elliott2014_smoking.csv",
        include_bytes!("../scores/elliott2014_smoking.csv"),
    ),
    (
        "gadd2022_crp_episcore.csv",
        include_bytes!("../scores/gadd2022_crp_episcore.csv"),
    ),
    (
        "jung2023_dnam_stress.csv",
        include_bytes!("../scores/jung2023_dnam_stress.csv"),
    ),
    ("make_scores.py", include_bytes!("../scores/make_scores.py")),
    (
        "provencal2020_ges.csv",
        include_bytes!("../scores/provencal2020_ges.csv"),
    ),
    (
        "rauschert2020_prenatal_smoking.csv",
        include_bytes!("../scores/rauschert2020_prenatal_smoking.csv"),
    ),
    (
        "rauschert2020_prenatal_smoking_epic.csv",
        include_bytes!("../scores/rauschert2020_prenatal_smoking_epic.csv"),
    ),
    (
        "reese2017_maternal_smoking.csv",
        include_bytes!("../scores/reese2017_maternal_smoking.csv"),
    ),
    ("scores.tsv", include_bytes!("../scores/scores.tsv")),
    (
        "stevenson2021_dnam_il6.csv",
        include_bytes!("../scores/stevenson2021_dnam_il6.csv"),
    ),
];

/// The files of `reference/celltypes/`: (path within the directory, contents).
pub const CELLTYPES: &[(&str, &[u8])] = &[
    (
        "MANIFEST.sha256",
        include_bytes!("../celltypes/MANIFEST.sha256"),
    ),
    (
        "PROVENANCE.md",
        include_bytes!("../celltypes/PROVENANCE.md"),
    ),
    (
        "blood_epidish_dhs.csv.gz",
        include_bytes!("../celltypes/blood_epidish_dhs.csv.gz"),
    ),
    (
        "blood_reinius450k.csv.gz",
        include_bytes!("../celltypes/blood_reinius450k.csv.gz"),
    ),
    (
        "blood_salas_epic.csv.gz",
        include_bytes!("../celltypes/blood_salas_epic.csv.gz"),
    ),
    (
        "cell_types.tsv",
        include_bytes!("../celltypes/cell_types.tsv"),
    ),
    (
        "cordblood_bakulski.csv.gz",
        include_bytes!("../celltypes/cordblood_bakulski.csv.gz"),
    ),
    (
        "cordblood_gervin.csv.gz",
        include_bytes!("../celltypes/cordblood_gervin.csv.gz"),
    ),
    (
        "cordblood_idol.csv.gz",
        include_bytes!("../celltypes/cordblood_idol.csv.gz"),
    ),
    ("panels.tsv", include_bytes!("../celltypes/panels.tsv")),
    (
        "placenta_first_trimester.csv.gz",
        include_bytes!("../celltypes/placenta_first_trimester.csv.gz"),
    ),
    (
        "placenta_third_trimester.csv.gz",
        include_bytes!("../celltypes/placenta_third_trimester.csv.gz"),
    ),
];

/// The files of `reference/nr3c1/`: (path within the directory, contents).
pub const NR3C1: &[(&str, &[u8])] = &[
    (
        "MANIFEST.sha256",
        include_bytes!("../nr3c1/MANIFEST.sha256"),
    ),
    ("PROVENANCE.md", include_bytes!("../nr3c1/PROVENANCE.md")),
    (
        "nr3c1_probes.tsv",
        include_bytes!("../nr3c1/nr3c1_probes.tsv"),
    ),
];

/// The files of `reference/qc/`: (path within the directory, contents).
pub const QC: &[(&str, &[u8])] = &[
    ("MANIFEST.sha256", include_bytes!("../qc/MANIFEST.sha256")),
    ("PROVENANCE.md", include_bytes!("../qc/PROVENANCE.md")),
    (
        "ewastools_genotype_mixture.tsv",
        include_bytes!("../qc/ewastools_genotype_mixture.tsv"),
    ),
    (
        "morin2017_thresholds.csv",
        include_bytes!("../qc/morin2017_thresholds.csv"),
    ),
    (
        "snp_probes_450k.txt",
        include_bytes!("../qc/snp_probes_450k.txt"),
    ),
];

/// The files of `reference/contigs/`: (path within the directory, contents).
pub const CONTIGS: &[(&str, &[u8])] = &[
    ("PROVENANCE.md", include_bytes!("../contigs/PROVENANCE.md")),
    ("aliases.tsv", include_bytes!("../contigs/aliases.tsv")),
];

/// The files of `reference/telomere/`: (path within the directory, contents).
pub const TELOMERE: &[(&str, &[u8])] = &[
    ("PROVENANCE.md", include_bytes!("../telomere/PROVENANCE.md")),
    (
        "subtelomeric_bands.tsv",
        include_bytes!("../telomere/subtelomeric_bands.tsv"),
    ),
];
