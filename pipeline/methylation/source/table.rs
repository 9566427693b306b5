//! The **probe table**: probe-level values from an input that is not a beta matrix (a batch of
//! IDATs after preprocessing, sequencing methylation calls mapped to probe IDs), and its
//! conversion to the same [`BetaView`] the matrix reader gives, with the same rules:
//! EPICv2 replicate probes are averaged to their cg ID, requested CpGs absent from the table
//! stay in the view with `probes = 0`, streamed CpGs are handed to the sink once each, and
//! per-sample moments are taken over every row of the table.
//!
//! A source builds the table in memory (8 bytes per probe × sample) and hands it over; the
//! view keeps only what the consumer asked for.

use super::{
    matrix::MomentSums, probe_base, BetaView, FastMap, ReaderNotes, ReaderOptions, StreamSink,
};
use crate::methylation::InputError;

/// Probe-level betas from a non-matrix source.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProbeTable {
    /// The input as the user named it, without directories (for the `input` column).
    pub input: String,
    /// Sample names, in output order.
    pub samples: Vec<String>,
    /// Probe IDs (cg IDs or EPICv2 names), one per row; a name may repeat (replicates).
    pub probes: Vec<String>,
    /// Probe-major betas: `values[p * samples.len() + s]`; `NaN` = missing.
    pub values: Vec<f64>,
    /// Sentences on how the table was made (preprocessing, build, coverage threshold…), for
    /// `qc_note` and the log.
    pub notes: Vec<String>,
}

impl ProbeTable {
    /// The values of row `p`.
    pub fn row(&self, p: usize) -> &[f64] {
        let n = self.samples.len();
        &self.values[p * n..(p + 1) * n]
    }

    /// Checks the shape: as many values as probes × samples, at least one sample, unique
    /// sample names.
    pub fn validate(&self) -> Result<(), InputError> {
        if self.samples.is_empty() {
            return Err(InputError::file(&self.input, "no samples"));
        }
        if self.values.len() != self.probes.len() * self.samples.len() {
            return Err(InputError::file(
                &self.input,
                format!(
                    "internal: {} values for {} probes × {} samples",
                    self.values.len(),
                    self.probes.len(),
                    self.samples.len()
                ),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.samples {
            if !seen.insert(s.as_str()) {
                return Err(InputError::file(
                    &self.input,
                    format!("duplicate sample '{s}'"),
                ));
            }
        }
        Ok(())
    }
}

/// Turns a probe table into the view of the `dense` CpGs, delivering the `streamed` ones to
/// `sink` (a CpG in both lists is kept in the view), as
/// [`read_beta_matrix_with`](super::read_beta_matrix_with) does for a matrix.
pub fn view_from_table<D: AsRef<str>, S: AsRef<str>>(
    table: &ProbeTable,
    dense: &[D],
    streamed: &[S],
    opts: &ReaderOptions,
    sink: Option<&mut dyn StreamSink>,
) -> Result<BetaView, InputError> {
    table.validate()?;
    let n = table.samples.len();
    let mut dense_ids: Vec<String> = Vec::new();
    let mut dense_at: FastMap<String, usize> = FastMap::default();
    for id in dense {
        let (b, _) = probe_base(id.as_ref());
        if !dense_at.contains_key(b) {
            dense_at.insert(b.to_string(), dense_ids.len());
            dense_ids.push(b.to_string());
        }
    }
    let mut streamed_at: FastMap<String, usize> = FastMap::default();
    for id in streamed {
        let (b, _) = probe_base(id.as_ref());
        if !dense_at.contains_key(b) && !streamed_at.contains_key(b) {
            let k = streamed_at.len();
            streamed_at.insert(b.to_string(), k);
        }
    }
    // Sums and counts per requested CpG, over its replicate rows.
    let mut dense_sum = vec![0.0f64; dense_ids.len() * n];
    let mut dense_k = vec![0u32; dense_ids.len() * n];
    let mut dense_probes = vec![0u16; dense_ids.len()];
    let mut st_sum = vec![0.0f64; streamed_at.len() * n];
    let mut st_k = vec![0u32; streamed_at.len() * n];
    let mut st_probes = vec![0u16; streamed_at.len()];
    let mut notes = ReaderNotes {
        n_probes: table.probes.len() as u64,
        ..Default::default()
    };
    let mut moments = opts.sample_moments.then(|| MomentSums::new(n));
    for (p, id) in table.probes.iter().enumerate() {
        let (b, suffixed) = probe_base(id);
        if suffixed {
            notes.epicv2_suffixed += 1;
        }
        let row = table.row(p);
        if let Some(m) = moments.as_mut() {
            m.add_row(row);
        }
        let (sum, k, probes, at) = if let Some(&i) = dense_at.get(b) {
            (&mut dense_sum, &mut dense_k, &mut dense_probes, i)
        } else if let Some(&i) = streamed_at.get(b) {
            (&mut st_sum, &mut st_k, &mut st_probes, i)
        } else {
            continue;
        };
        probes[at] = probes[at].saturating_add(1);
        for (s, &v) in row.iter().enumerate() {
            if v.is_nan() {
                notes.missing_cells += 1;
            } else {
                sum[at * n + s] += v;
                k[at * n + s] += 1;
            }
        }
    }
    let mean = |sum: &[f64], k: &[u32]| -> Vec<f64> {
        sum.iter()
            .zip(k)
            .map(|(&t, &c)| if c == 0 { f64::NAN } else { t / f64::from(c) })
            .collect()
    };
    let values = mean(&dense_sum, &dense_k);
    notes.replicates_collapsed = dense_probes.iter().filter(|&&c| c > 1).count() as u64
        + st_probes.iter().filter(|&&c| c > 1).count() as u64;
    if let Some(sink) = sink {
        sink.start(n);
        let st_values = mean(&st_sum, &st_k);
        for (i, &c) in st_probes.iter().enumerate() {
            if c > 0 {
                sink.row_with_probes(i, &st_values[i * n..(i + 1) * n], c);
            }
        }
    }
    Ok(BetaView {
        input: table.input.clone(),
        samples: table.samples.clone(),
        cpgs: dense_ids,
        probes: dense_probes,
        values: super::Rows::from_dense(values, n),
        moments: moments.map(|m| m.finish()),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<(usize, Vec<f64>)>);
    impl StreamSink for Collect {
        fn start(&mut self, _: usize) {}
        fn row(&mut self, i: usize, v: &[f64]) {
            self.0.push((i, v.to_vec()));
        }
    }

    #[test]
    fn same_view_as_the_matrix_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        std::fs::write(
            &path,
            "id,S1,S2\ncg1_TC11,0.1,0.2\ncg1_BC12,0.3,NA\ncg2,NA,0.4\ncg3,0.5,0.25\n",
        )
        .unwrap();
        let table = ProbeTable {
            input: "m.csv".into(),
            samples: vec!["S1".into(), "S2".into()],
            probes: vec![
                "cg1_TC11".into(),
                "cg1_BC12".into(),
                "cg2".into(),
                "cg3".into(),
            ],
            values: vec![0.1, 0.2, 0.3, f64::NAN, f64::NAN, 0.4, 0.5, 0.25],
            notes: vec![],
        };
        let opts = ReaderOptions {
            sample_moments: true,
            ..Default::default()
        };
        let dense = ["cg3", "cg1", "cg9"];
        let streamed = ["cg2", "cg3"];
        let mut sa = Collect(vec![]);
        let mut sb = Collect(vec![]);
        let a = super::super::read_beta_matrix_with(
            path.to_str().unwrap(),
            &dense,
            &streamed,
            &opts,
            Some(&mut sa),
        )
        .unwrap();
        let b = view_from_table(&table, &dense, &streamed, &opts, Some(&mut sb)).unwrap();
        assert_eq!(a.cpgs, b.cpgs);
        assert_eq!(a.probes, b.probes);
        assert_eq!(a.samples, b.samples);
        assert_eq!(
            format!("{:?}", a.values.to_dense()),
            format!("{:?}", b.values.to_dense())
        );
        assert_eq!(format!("{:?}", sa.0), format!("{:?}", sb.0));
        let (ma, mb) = (a.moments.unwrap(), b.moments.unwrap());
        assert_eq!(ma.n, mb.n);
        assert_eq!(ma.filled, mb.filled);
        for s in 0..2 {
            assert!((ma.mean[s] - mb.mean[s]).abs() < 1e-15);
            assert!((ma.sd[s] - mb.sd[s]).abs() < 1e-15);
        }
        assert_eq!(a.notes.replicates_collapsed, b.notes.replicates_collapsed);
        assert_eq!(a.notes.epicv2_suffixed, b.notes.epicv2_suffixed);
        assert_eq!(a.notes.missing_cells, b.notes.missing_cells);
    }

    #[test]
    fn shape_errors() {
        let t = ProbeTable {
            input: "x".into(),
            samples: vec!["A".into(), "A".into()],
            probes: vec!["cg1".into()],
            values: vec![0.1, 0.2],
            notes: vec![],
        };
        assert!(
            view_from_table::<&str, &str>(&t, &[], &[], &Default::default(), None)
                .unwrap_err()
                .to_string()
                .contains("duplicate sample")
        );
    }
}
