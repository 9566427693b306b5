//! DNA-methylation scores of early-life exposure and stress, applied by the clocks' linear
//! engine ([`super::ClocksPlan`]) from `reference/scores/` ([`super::registry::Registry::bundled_scores`]):
//! rows of assay `exposure`, unit `score`, missing CpGs counted and imputed or refused exactly
//! as for the clocks (module [`super`]), each score applied where it was developed
//! (`reference/scores/applicability.tsv`, [`super::applicability`]).
//!
//! | measure | formula | developed in | citation |
//! |---|---|---|---|
//! | `reese2017_maternal_smoking` | Σ coef·β over 28 CpGs, no intercept | newborn cord blood (MoBa) | Reese SE et al. 2017, Environ Health Perspect 125:760, doi:10.1289/EHP333 |
//! | `rauschert2020_prenatal_smoking` | −0.35839 + Σ coef·β over 204 CpGs (450K) | blood of 17-year-olds (Raine), validated at 16 and 31 | Rauschert S et al. 2020, Environ Health Perspect 128:097003, doi:10.1289/EHP6076 |
//! | `rauschert2020_prenatal_smoking_epic` | the same intercept + the 181 CpGs EPIC has | as above | as above |
//! | `provencal2020_ges` | Σ weight·β over 24 CpGs, no intercept | CpGs from glucocorticoid-exposed hippocampal progenitor cells, scored in cord blood | Provençal N et al. 2020, PNAS 117:23280, doi:10.1073/pnas.1820842116 |
//! | `elliott2014_smoking` | Σ w·(β − ref) where the smoking effect is positive, Σ w·(ref − β) where it is negative, over 187 CpGs (EpiSmokEr's SSc), as a linear model: coefficient w·sign(effect), intercept −Σ coefficient·ref | adult blood | Elliott HR et al. 2014, Clin Epigenetics 6:4, doi:10.1186/1868-7083-6-4 |
//! | `stevenson2021_dnam_il6` | Σ coef·β over 35 CpGs | adult blood | Stevenson AJ et al. 2021, J Gerontol A 76:1342, doi:10.1093/gerona/glab046 |
//! | `jung2023_dnam_stress` | −4.494069 + Σ coef·β over 211 CpGs | adult blood | as attributed by methylCIPHERv2: Jung J et al. 2023, Biol Psychiatry |
//! | `gadd2022_crp_episcore` | Σ coef·β over 100 CpGs | adult blood (Generation Scotland) | Gadd DA et al. 2022, eLife 11:e71802, doi:10.7554/eLife.71802 |
//!
//! Reference betas: Elliott's never-smoker medians and the EpiScore's training means travel
//! with their models (`reference_beta`) and are what `reference` imputation fills with (an
//! Elliott CpG filled with its median adds exactly 0, as EpiSmokEr's sum over the CpGs it has).
//!
//! Cut-offs: none is applied. The scores are continuous; Reese 2017 and Rauschert 2020 report
//! discrimination (AUC) of exposed versus unexposed in their cohorts, and EpiSmokEr's smoking
//! *status* comes from a separate multinomial model, not from a threshold on this score. A
//! threshold taken from a paper applies to data processed as in that paper (its normalisation,
//! its array), so agemark leaves classification to the analyst and says so in README.
//!
//! Left out (README and `reference/scores/PROVENANCE.md` say why): the Wielscher 2022 CRP
//! signature (cohort-relative correlation scoring), GrimAge2's DNAm logCRP (Clock Foundation
//! licence), the Richmond scores (no reachable coefficient table).

/// The bundled scores, in `scores.tsv` order.
pub const NAMES: [&str; 8] = [
    "reese2017_maternal_smoking",
    "rauschert2020_prenatal_smoking",
    "rauschert2020_prenatal_smoking_epic",
    "provencal2020_ges",
    "elliott2014_smoking",
    "stevenson2021_dnam_il6",
    "jung2023_dnam_stress",
    "gadd2022_crp_episcore",
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_index_lists_exactly_the_documented_scores() {
        let reg = super::super::registry::Registry::bundled_scores().unwrap();
        let names: Vec<&str> = reg.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, super::NAMES);
        for m in &reg.models {
            let model = reg.load(m).unwrap();
            assert_eq!(m.assay, "exposure");
            assert!(
                super::super::applicability::domain_of(&m.name)
                    .unwrap()
                    .is_some(),
                "{}",
                m.name
            );
            assert_eq!(Some(model.cpgs.len()), m.n_cpgs);
        }
    }
}
