//! Output transforms of the clock models.
//!
//! Every model first forms the linear predictor `lin = intercept + Σ_i coef_i · x_i` over its
//! CpGs; the transform then gives the output:
//!
//! * `identity`: `lin`.
//! * `anti_trafo20`: Horvath's inverse of the log-linear age transform with adult age 20
//!   (Horvath 2013, *Genome Biol* 14:R115, Additional file 2):
//!   `lin < 0 ? 21·exp(lin) − 1 : 21·lin + 20`.
//! * `anti_trafo48_then_div12`: Wu 2019 (*Aging* 11:5356) is trained on age in months with the
//!   same transform at an adult age of 48 months: `lin < 0 ? 49·exp(lin) − 1 : 49·lin + 48`,
//!   then `/ 12` for years.
//! * `per_sample_standardize`: Zhang Q 2019 (*Genome Med* 11:54); `x_i` are per-sample z-scores
//!   over every row of the input (see [`super::zhang`]); output `lin`.
//! * `dunedinpace`: Belsky 2022 (*eLife* 11:e73420); `x_i` are quantile-normalised betas (see
//!   [`super::dunedinpace`]); output `lin`.

/// A model's transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    /// `lin`.
    Identity,
    /// Horvath anti-log, adult age 20 years.
    AntiTrafo20,
    /// Horvath anti-log, adult age 48 months, then / 12.
    AntiTrafo48Div12,
    /// Zhang 2019: linear on per-sample standardised betas.
    PerSampleStandardize,
    /// DunedinPACE: linear on quantile-normalised betas.
    DunedinPace,
}

impl Transform {
    /// Keywords accepted in `clocks.tsv`.
    pub const KEYWORDS: [&'static str; 5] = [
        "identity",
        "anti_trafo20",
        "anti_trafo48_then_div12",
        "per_sample_standardize",
        "dunedinpace",
    ];

    /// Parses a keyword (the long forms of the shared clocks index are accepted too).
    pub fn parse(s: &str) -> Option<Transform> {
        Some(match s {
            "identity" => Transform::Identity,
            "anti_trafo20" => Transform::AntiTrafo20,
            "anti_trafo48_then_div12" => Transform::AntiTrafo48Div12,
            "per_sample_standardize" | "per_sample_standardize_then_linear" => {
                Transform::PerSampleStandardize
            }
            "dunedinpace" | "dunedinpace_quantile_norm_then_linear" => Transform::DunedinPace,
            _ => return None,
        })
    }

    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Transform::Identity => "identity",
            Transform::AntiTrafo20 => "anti_trafo20",
            Transform::AntiTrafo48Div12 => "anti_trafo48_then_div12",
            Transform::PerSampleStandardize => "per_sample_standardize",
            Transform::DunedinPace => "dunedinpace",
        }
    }

    /// Output from the linear predictor.
    pub fn apply(self, lin: f64) -> f64 {
        match self {
            Transform::AntiTrafo20 => anti_trafo(lin, 20.0),
            Transform::AntiTrafo48Div12 => anti_trafo(lin, 48.0) / 12.0,
            _ => lin,
        }
    }
}

/// Horvath's anti-transform with the given adult age.
pub fn anti_trafo(lin: f64, adult_age: f64) -> f64 {
    if lin < 0.0 {
        (1.0 + adult_age) * lin.exp() - 1.0
    } else {
        (1.0 + adult_age) * lin + adult_age
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anti_trafo_is_continuous_at_zero() {
        assert_eq!(anti_trafo(0.0, 20.0), 20.0);
        assert!((anti_trafo(-1e-12, 20.0) - 20.0).abs() < 1e-10);
        assert_eq!(anti_trafo(1.0, 20.0), 41.0);
        assert_eq!(Transform::AntiTrafo48Div12.apply(0.0), 4.0);
        assert!((anti_trafo(-1.0, 20.0) - (21.0 * (-1f64).exp() - 1.0)).abs() < 1e-15);
    }
}
