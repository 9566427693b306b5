//! Where each bundled clock applies: the tissues (sample types) and ages it was trained on.
//!
//! A clock is a regression fitted on one kind of sample; outside it the number is not an age.
//! A gestational-age clock trained on cord blood says nothing about a mother's blood (on real
//! maternal bloods `knight2016_ga` gives 21.5 and `mayne2017_ga` −11 "weeks"), a placental clock
//! nothing about cord blood, an adult blood clock little about a newborn. The table
//! `reference/clocks/applicability.tsv` declares, per clock, the cohort sheet's sample types it
//! applies to and the age range of its training data (`years`, or `gestational_weeks` for the
//! clocks of gestational age, compared with the sheet's `gestational_age_weeks`), with the
//! training data and the reason in words (`trained_on`, `basis`; the papers are cited in
//! `clocks.tsv`). The training tissues follow each paper (and biolearn's model metadata); the
//! age bounds are the papers' training ranges, rounded outward to whole years/weeks.
//!
//! Rule ([`Domain::check`]): a sample is in a clock's domain when its `sample_type` is listed
//! and its age (years or gestational weeks, by the clock's `age_unit`) is within
//! `[age_min, age_max]`; a missing age is not held against it. `agemark run` computes, by
//! default (`--clocks applicable`, or `applicable:NAMES` for some clocks only), each sample's
//! in-domain clocks only: the others get no row, and the sample is left out of their
//! age-acceleration fits. Named clocks (`--clocks all` or a list) are computed for every sample; an out-of-domain row is then `warn` with
//! "outside the clock's training domain: trained on …".

use std::sync::OnceLock;

use super::registry::embedded;
use crate::methylation::InputError;

const SOURCE: &str = "reference/clocks/applicability.tsv";

/// Age scale of a clock's domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgeUnit {
    /// Chronological age in years (the sheet's `age_years`).
    Years,
    /// Gestational age at birth in weeks (the sheet's `gestational_age_weeks`).
    GestationalWeeks,
}

impl AgeUnit {
    /// The word used in notes.
    pub fn as_str(self) -> &'static str {
        match self {
            AgeUnit::Years => "years",
            AgeUnit::GestationalWeeks => "gestational weeks",
        }
    }
}

/// One clock's training domain.
#[derive(Clone, Debug)]
pub struct Domain {
    /// Clock name (as in `clocks.tsv`).
    pub clock: String,
    /// Sample types of the cohort sheet it applies to.
    pub sample_types: Vec<String>,
    /// Lowest training age.
    pub age_min: f64,
    /// Highest training age.
    pub age_max: f64,
    /// Scale of the ages.
    pub age_unit: AgeUnit,
    /// The training data in words.
    pub trained_on: String,
    /// Why these sample types (from the paper).
    pub basis: String,
}

/// Whether a sample is in a clock's domain.
#[derive(Clone, Debug, PartialEq)]
pub enum Fit {
    /// In the domain (or its age is unknown).
    In,
    /// Outside; the reason, e.g. "sample_type maternal_blood (trained on cord blood …)".
    Out(String),
}

impl Domain {
    /// Checks one sample (its sheet `sample_type`, `age_years`, `gestational_age_weeks`).
    pub fn check(&self, sample_type: &str, age_years: Option<f64>, ga_weeks: Option<f64>) -> Fit {
        if !self.sample_types.iter().any(|t| t == sample_type) {
            return Fit::Out(format!(
                "outside the clock's training domain: trained on {}; this sample is {sample_type}",
                self.trained_on
            ));
        }
        let age = match self.age_unit {
            AgeUnit::Years => age_years,
            AgeUnit::GestationalWeeks => ga_weeks,
        };
        match age {
            Some(a) if a < self.age_min || a > self.age_max => Fit::Out(format!(
                "outside the clock's training domain: trained on {}, ages {}-{} {}; this sample is {a} {}",
                self.trained_on,
                self.age_min,
                self.age_max,
                self.age_unit.as_str(),
                self.age_unit.as_str()
            )),
            _ => Fit::In,
        }
    }
}

/// Whether a `--clocks` value names clocks to compute for every sample (`all`, a list) rather
/// than asking for each sample's applicable ones (empty, `applicable`, `applicable:NAMES`).
pub fn forces(clocks: &str) -> bool {
    let c = clocks.trim();
    !(c.is_empty() || c == "applicable" || c.starts_with("applicable:"))
}

/// Whether a row's `measure` belongs to `clock`: the clock's own row or its `_diff`,
/// `_residual` and `_ieaa` acceleration rows.
pub fn is_measure_of(measure: &str, clock: &str) -> bool {
    measure == clock
        || measure
            .strip_prefix(clock)
            .is_some_and(|rest| ["_diff", "_residual", "_ieaa"].contains(&rest))
}

/// The bundled domains, read once (sha256-checked with the other clock files).
pub fn domains() -> Result<&'static [Domain], InputError> {
    static CELL: OnceLock<Result<Vec<Domain>, InputError>> = OnceLock::new();
    CELL.get_or_init(|| {
        // The clocks' table, then the exposure scores' (reference/scores/applicability.tsv).
        let mut d = parse(&embedded("applicability.tsv")?)?;
        d.extend(parse(&super::registry::embedded_score(
            "applicability.tsv",
        )?)?);
        Ok(d)
    })
    .as_ref()
    .map(Vec::as_slice)
    .map_err(Clone::clone)
}

/// The domain of `clock`; `None` for a clock the table does not list (a user model).
pub fn domain_of(clock: &str) -> Result<Option<&'static Domain>, InputError> {
    Ok(domains()?.iter().find(|d| d.clock == clock))
}

fn parse(bytes: &[u8]) -> Result<Vec<Domain>, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|_| InputError::file(SOURCE, "not UTF-8"))?;
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split('\t').collect(),
        None => return Err(InputError::file(SOURCE, "empty")),
    };
    let want = [
        "clock",
        "sample_types",
        "age_min",
        "age_max",
        "age_unit",
        "trained_on",
        "basis",
    ];
    if header != want {
        return Err(InputError::file(
            SOURCE,
            format!("header must be {}", want.join("\t")),
        ));
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let bad = |m: &str| InputError::file(SOURCE, format!("line {}: {m}", i + 1));
        if f.len() != want.len() {
            return Err(bad("wrong number of fields"));
        }
        let num = |s: &str, what: &str| s.parse::<f64>().map_err(|_| bad(what));
        out.push(Domain {
            clock: f[0].to_string(),
            sample_types: f[1].split(',').map(str::to_string).collect(),
            age_min: num(f[2], "age_min")?,
            age_max: num(f[3], "age_max")?,
            age_unit: match f[4] {
                "years" => AgeUnit::Years,
                "gestational_weeks" => AgeUnit::GestationalWeeks,
                _ => return Err(bad("age_unit must be years or gestational_weeks")),
            },
            trained_on: f[5].to_string(),
            basis: f[6].to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methylation::models::registry::Registry;

    #[test]
    fn every_bundled_clock_has_a_domain_of_known_sample_types() {
        let reg = Registry::bundled().unwrap();
        for m in &reg.models {
            let d = domain_of(&m.name)
                .unwrap()
                .unwrap_or_else(|| panic!("{}", m.name));
            assert!(d.age_min <= d.age_max, "{}", m.name);
            let ga = m.unit.contains("gestational");
            assert_eq!(ga, d.age_unit == AgeUnit::GestationalWeeks, "{}", m.name);
        }
        // The clocks' domains and the exposure scores' (reference/scores/applicability.tsv).
        let scores = Registry::bundled_scores().unwrap();
        assert_eq!(
            domains().unwrap().len(),
            reg.models.len() + scores.models.len()
        );
        for d in domains().unwrap() {
            for t in &d.sample_types {
                assert!(
                    crate::cohort::samplesheet::SAMPLE_TYPES.contains(&t.as_str()),
                    "{}: {t}",
                    d.clock
                );
            }
        }
    }

    #[test]
    fn ga_clocks_apply_to_cord_blood_not_to_mothers_and_adult_clocks_not_to_newborns() {
        let knight = domain_of("knight2016_ga").unwrap().unwrap();
        assert_eq!(knight.check("cord_blood", Some(0.0), Some(39.0)), Fit::In);
        match knight.check("maternal_blood", Some(31.0), None) {
            Fit::Out(why) => assert!(
                why.starts_with("outside the clock's training domain: trained on cord blood")
                    && why.ends_with("this sample is maternal_blood"),
                "{why}"
            ),
            Fit::In => panic!("knight on maternal blood"),
        }
        let hannum = domain_of("hannum2013").unwrap().unwrap();
        assert_eq!(hannum.check("whole_blood", Some(45.0), None), Fit::In);
        assert_eq!(hannum.check("whole_blood", None, None), Fit::In);
        assert!(
            matches!(hannum.check("whole_blood", Some(8.0), None), Fit::Out(w) if w.contains("ages 19-101 years; this sample is 8 years"))
        );
        let lee = domain_of("lee2019_rpc").unwrap().unwrap();
        assert_eq!(lee.check("placenta", None, Some(39.0)), Fit::In);
        assert!(matches!(
            lee.check("cord_blood", Some(0.0), Some(39.0)),
            Fit::Out(_)
        ));
    }
}
