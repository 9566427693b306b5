//! One read of a methylation input for several consumers (`agemark run`: clocks, every
//! cell-type panel and NR3C1 from one pass over the matrix).
//!
//! Each consumer states the request it would give [`read_methylation_with`] on its own (dense
//! CpGs, streamed CpGs with a sink, per-sample moments); [`read_shared`] reads the input once
//! and hands each consumer the view that call would have returned:
//!
//! * IDAT and sequencing-calls inputs are loaded into their probe table once; each consumer's
//!   view is then cut from the table by [`view_from_table`] with its own request, exactly as
//!   [`read_methylation_with`] does. For a calls file the same pass can also collect the CpGs
//!   of a region by coordinate ([`read_shared_region`]; NR3C1's promoter).
//! * A matrix is streamed once for the union of the requests. A CpG streamed by any consumer
//!   stays streamed in the union (so a streaming consumer sees the same rows in the same order
//!   and folds them into its sums in the same order as on its own); a consumer that holds such
//!   a CpG densely gets a copy of its row as it passes. Every other requested CpG is held once.
//!
//! Why a consumer's numbers cannot depend on the other requests: a held value is the input
//! cell (or the mean of its EPICv2 replicate probes, which depends only on that CpG's rows);
//! per-sample moments and `n_probes` / `epicv2_suffixed` are taken over every row of the input,
//! whatever was requested; the request-dependent notes are recomputed per consumer:
//! `replicates_collapsed` from the probe counts of its own CpGs, and `missing_cells` from its
//! own rows (for a CpG of several EPICv2 replicate rows in a CpGs-as-rows file this counts the
//! cells missing after averaging, not per replicate row; no stage writes `missing_cells`).
//! One request-dependent difference remains: a CpG that one consumer holds and another
//! streams is read as streamed, and a CpG-rows matrix naming such a CpG both with and without an
//! EPICv2 suffix is then an error for the shared read (the streaming consumer would fail on it
//! alone too). Callers that must keep per-consumer errors fall back to one read per consumer
//! when [`read_shared`] fails (`agemark run` does).

use super::{
    calls_input, idat_input, input_kind, probe_base, read_beta_matrix_with, view_from_table,
    BetaView, FastMap, InputKind, ReaderOptions, StreamSink,
};
use crate::methylation::InputError;

/// What one consumer wants from the input (as for [`read_methylation_with`]).
pub struct Request<'a> {
    /// CpGs held in the consumer's view, in its order.
    pub dense: &'a [String],
    /// CpGs delivered to `sink` row by row instead.
    pub streamed: &'a [String],
    /// Also compute per-sample moments over every row.
    pub sample_moments: bool,
    /// Receives the streamed CpGs.
    pub sink: Option<&'a mut dyn StreamSink>,
}

/// What the shared read covered, for the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedStats {
    /// Samples in the input.
    pub n_samples: usize,
    /// Distinct CpGs requested by all consumers together.
    pub n_cpgs: usize,
}

/// Reads `path` once and returns, per request (same order), the view
/// `read_methylation_with(path, &r.dense, &r.streamed, opts (+ r.sample_moments), r.sink)`
/// would return; each sink receives the rows it would receive.
pub fn read_shared(
    path: &str,
    requests: &mut [Request<'_>],
    opts: &ReaderOptions,
) -> Result<(Vec<BetaView>, SharedStats), InputError> {
    read_shared_region(path, requests, opts, None).map(|(v, s, _)| (v, s))
}

/// A region by coordinate (`chrom`, 1-based inclusive `start`, `end`) of a sequencing-calls
/// input.
pub type Region<'r> = (&'r str, u64, u64);

/// [`read_shared`]; for a sequencing-calls input also the covered CpGs of `region`, from the
/// same pass over the file (what [`calls_input::region_cpgs`] gives; `None` for other inputs
/// or without a region).
pub fn read_shared_region(
    path: &str,
    requests: &mut [Request<'_>],
    opts: &ReaderOptions,
    region: Option<Region<'_>>,
) -> Result<RegionRead, InputError> {
    let mut cpgs = None;
    let table = match input_kind(path) {
        InputKind::Matrix => {
            return read_matrix_shared(path, requests, opts).map(|(v, s)| (v, s, None))
        }
        InputKind::Idat => idat_input::load(path, opts)?,
        InputKind::Calls => match region {
            None => calls_input::load(path, opts)?,
            Some((chrom, start, end)) => {
                let mut collector =
                    calls_input::RegionCollector::new(path, opts, chrom, start, end);
                let table = calls_input::load_with(path, opts, |call| {
                    if let Ok(c) = collector.as_mut() {
                        c.add(call);
                    }
                })?;
                cpgs = Some(collector.map(calls_input::RegionCollector::finish));
                table
            }
        },
    };
    let mut views = Vec::with_capacity(requests.len());
    let mut all: FastMap<String, ()> = FastMap::default();
    for r in requests.iter_mut() {
        let o = ReaderOptions {
            sample_moments: opts.sample_moments || r.sample_moments,
            ..opts.clone()
        };
        let sink = r.sink.as_mut().map(|s| &mut **s as &mut dyn StreamSink);
        let mut v = view_from_table(&table, r.dense, r.streamed, &o, sink)?;
        v.notes.source_notes = table.notes.clone();
        for c in r.dense.iter().chain(r.streamed) {
            all.insert(probe_base(c).0.to_string(), ());
        }
        views.push(v);
    }
    let stats = SharedStats {
        n_samples: table.samples.len(),
        n_cpgs: all.len(),
    };
    Ok((views, stats, cpgs))
}

/// What [`read_shared_region`] gives: the views, the stats, the region's CpGs.
pub type RegionRead = (
    Vec<BetaView>,
    SharedStats,
    Option<Result<Vec<calls_input::CoveredCpg>, InputError>>,
);

/// Distinct cg IDs of a list, in order.
fn bases(ids: &[String]) -> Vec<String> {
    let mut seen: FastMap<&str, ()> = FastMap::default();
    let mut out = Vec::new();
    for id in ids {
        let b = probe_base(id).0;
        if seen.insert(b, ()).is_none() {
            out.push(b.to_string());
        }
    }
    out
}

/// The union read's sink: forwards each streamed row to the consumers that stream it and
/// keeps a copy for those that hold it.
struct Tee<'s, 'a> {
    n: usize,
    /// Per union-streamed CpG: (consumer, its index in that consumer's streamed list).
    forward: Vec<Vec<(usize, usize)>>,
    /// Per union-streamed CpG: slot among the copies kept, when a consumer holds it.
    keep: Vec<Option<usize>>,
    kept: super::Rows,
    /// Per union-streamed CpG: probes that gave its row (0 = never delivered).
    probes: Vec<u16>,
    /// Per union-streamed CpG: missing cells of its row.
    missing: Vec<u64>,
    sinks: Vec<Option<&'s mut (dyn StreamSink + 'a)>>,
}

impl StreamSink for Tee<'_, '_> {
    fn start(&mut self, n_samples: usize) {
        self.n = n_samples;
        let slots = self.keep.iter().flatten().count();
        self.kept = super::Rows::new(slots, n_samples);
        for s in self.sinks.iter_mut().flatten() {
            s.start(n_samples);
        }
    }

    fn row(&mut self, index: usize, values: &[f64]) {
        self.row_with_probes(index, values, 1);
    }

    fn row_with_probes(&mut self, index: usize, values: &[f64], probes: u16) {
        self.probes[index] = probes;
        self.missing[index] = values.iter().filter(|v| v.is_nan()).count() as u64;
        for &(c, local) in &self.forward[index] {
            if let Some(s) = self.sinks[c].as_deref_mut() {
                s.row_with_probes(local, values, probes);
            }
        }
        if let Some(k) = self.keep[index] {
            self.kept.row_mut(k).copy_from_slice(values);
        }
    }
}

fn read_matrix_shared(
    path: &str,
    requests: &mut [Request<'_>],
    opts: &ReaderOptions,
) -> Result<(Vec<BetaView>, SharedStats), InputError> {
    // Each consumer's request as the reader sees it: distinct cg IDs, streamed minus dense.
    let dense: Vec<Vec<String>> = requests.iter().map(|r| bases(r.dense)).collect();
    let streamed: Vec<Vec<String>> = requests
        .iter()
        .zip(&dense)
        .map(|(r, d)| {
            let own: FastMap<&str, ()> = d.iter().map(|c| (c.as_str(), ())).collect();
            bases(r.streamed)
                .into_iter()
                .filter(|c| !own.contains_key(c.as_str()))
                .collect()
        })
        .collect();
    // Union: streamed first (consumer order, so the first streaming consumer's rows keep their
    // order), then the held CpGs nobody streams.
    let mut u_streamed: Vec<String> = Vec::new();
    let mut u_streamed_at: FastMap<String, usize> = FastMap::default();
    for s in &streamed {
        for c in s {
            if !u_streamed_at.contains_key(c) {
                u_streamed_at.insert(c.clone(), u_streamed.len());
                u_streamed.push(c.clone());
            }
        }
    }
    let mut u_dense: Vec<String> = Vec::new();
    let mut u_dense_at: FastMap<String, usize> = FastMap::default();
    let mut keep: Vec<Option<usize>> = vec![None; u_streamed.len()];
    let mut n_keep = 0;
    for d in &dense {
        for c in d {
            if let Some(&j) = u_streamed_at.get(c) {
                if keep[j].is_none() {
                    keep[j] = Some(n_keep);
                    n_keep += 1;
                }
            } else if !u_dense_at.contains_key(c) {
                u_dense_at.insert(c.clone(), u_dense.len());
                u_dense.push(c.clone());
            }
        }
    }
    let mut forward: Vec<Vec<(usize, usize)>> = vec![Vec::new(); u_streamed.len()];
    for (k, s) in streamed.iter().enumerate() {
        if requests[k].sink.is_some() {
            for (local, c) in s.iter().enumerate() {
                forward[u_streamed_at[c]].push((k, local));
            }
        }
    }
    let uopts = ReaderOptions {
        sample_moments: opts.sample_moments || requests.iter().any(|r| r.sample_moments),
        ..opts.clone()
    };
    let mut tee = Tee {
        n: 0,
        forward,
        keep,
        kept: super::Rows::default(),
        probes: vec![0; u_streamed.len()],
        missing: vec![0; u_streamed.len()],
        sinks: requests.iter_mut().map(|r| r.sink.as_deref_mut()).collect(),
    };
    let union = read_beta_matrix_with(
        path,
        &u_dense,
        &u_streamed,
        &uopts,
        Some(&mut tee as &mut dyn StreamSink),
    )?;
    let n = union.n_samples();
    let Tee {
        keep,
        kept,
        probes: st_probes,
        missing: st_missing,
        ..
    } = tee;
    let mut views = Vec::with_capacity(requests.len());
    for (k, r) in requests.iter().enumerate() {
        let cpgs = &dense[k];
        let mut values = super::Rows::new(0, n);
        let mut probes = Vec::with_capacity(cpgs.len());
        let mut missing = 0u64;
        for c in cpgs {
            let (row, p): (Option<&[f64]>, u16) = match u_dense_at.get(c) {
                Some(&i) if union.values.is_filled(i) => (Some(union.row(i)), union.probes[i]),
                Some(&i) => (None, union.probes[i]),
                None => {
                    let j = u_streamed_at[c];
                    match keep[j] {
                        Some(s) if st_probes[j] > 0 => (Some(kept.row(s)), st_probes[j]),
                        _ => (None, 0),
                    }
                }
            };
            if p > 0 {
                let nan = |r: &[f64]| r.iter().filter(|v| v.is_nan()).count() as u64;
                missing += row.map_or(n as u64, nan);
            }
            values.push(row);
            probes.push(p);
        }
        let own_streamed = streamed[k].iter().map(|c| u_streamed_at[c]);
        let mut notes = union.notes.clone();
        notes.replicates_collapsed = probes.iter().filter(|&&p| p > 1).count() as u64
            + own_streamed.clone().filter(|&j| st_probes[j] > 1).count() as u64;
        notes.missing_cells = missing + own_streamed.map(|j| st_missing[j]).sum::<u64>();
        views.push(BetaView {
            input: union.input.clone(),
            samples: union.samples.clone(),
            cpgs: cpgs.clone(),
            probes,
            values,
            moments: if opts.sample_moments || r.sample_moments {
                union.moments.clone()
            } else {
                None
            },
            notes,
        });
    }
    let stats = SharedStats {
        n_samples: n,
        n_cpgs: u_dense.len() + u_streamed.len(),
    };
    Ok((views, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methylation::source::read_methylation_with;

    /// Collects every row it is given, in order.
    #[derive(Default)]
    struct Log(Vec<(usize, Vec<u64>, u16)>, usize);

    impl StreamSink for Log {
        fn start(&mut self, n: usize) {
            self.1 = n;
        }
        fn row(&mut self, i: usize, v: &[f64]) {
            self.row_with_probes(i, v, 1);
        }
        fn row_with_probes(&mut self, i: usize, v: &[f64], p: u16) {
            self.0.push((i, v.iter().map(|x| x.to_bits()).collect(), p));
        }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// A calls file: the views and the region's CpGs of one pass equal `read_methylation_with`
    /// and `region_cpgs` on their own.
    #[test]
    fn calls_file_gives_views_and_the_region_from_one_pass() {
        let path = format!(
            "{}/tests/data/bisulfite/MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz",
            env!("CARGO_MANIFEST_DIR")
        );
        let opts = ReaderOptions::default();
        let alone = read_methylation_with::<String, String>(&path, &[], &[], &opts, None).unwrap();
        let probes = crate::methylation::source::calls_input::load(&path, &opts).unwrap();
        let dense: Vec<String> = probes.probes.iter().take(50).cloned().collect();
        let want_view =
            read_methylation_with::<String, String>(&path, &dense, &[], &opts, None).unwrap();
        let want_region =
            calls_input::region_cpgs(&path, &opts, "chr11", 128_000, 400_000).unwrap();
        assert!(want_region.len() > 100, "{}", want_region.len());
        let mut requests = [Request {
            dense: &dense,
            streamed: &[],
            sample_moments: false,
            sink: None,
        }];
        let (views, stats, region) = read_shared_region(
            &path,
            &mut requests,
            &opts,
            Some(("chr11", 128_000, 400_000)),
        )
        .unwrap();
        assert_eq!(views[0], want_view);
        assert_eq!(region.unwrap().unwrap(), want_region);
        assert_eq!(stats.n_samples, 1);
        assert_eq!(alone.samples, views[0].samples);
    }

    /// Each consumer of a shared read gets exactly the view (and sink rows) of its own read:
    /// rows and columns layouts, EPICv2 replicates, missing cells, overlapping requests
    /// (a CpG streamed by one and held by another), moments for one consumer only.
    #[test]
    fn shared_read_gives_each_consumer_its_own_read() {
        let dir = tempfile::tempdir().unwrap();
        let rows = "id,S1,S2,S3\n\
            cg1,0.1,0.2,NA\n\
            cg2_TC11,0.3,NA,0.5\n\
            cg2_BC12,0.4,0.6,NA\n\
            cg3,0.7,0.8,0.9\n\
            cg4_TC21,0.15,0.25,0.35\n\
            cg4_BO22,NA,0.45,0.55\n\
            cg5,NA,NA,NA\n\
            cg6,0.05,0.06,0.07\n";
        let p_rows = dir.path().join("rows.csv");
        std::fs::write(&p_rows, rows).unwrap();
        // The same matrix with CpGs as columns.
        let lines: Vec<Vec<&str>> = rows.lines().map(|l| l.split(',').collect()).collect();
        let mut cols = String::new();
        for j in 0..lines[0].len() {
            let line: Vec<&str> = lines.iter().map(|l| l[j]).collect();
            cols.push_str(&line.join(","));
            cols.push('\n');
        }
        let p_cols = dir.path().join("cols.csv");
        std::fs::write(&p_cols, cols).unwrap();
        let reqs: Vec<(Vec<String>, Vec<String>, bool, bool)> = vec![
            // (dense, streamed, moments, sink)
            (
                ids(&["cg1", "cg9"]),
                ids(&["cg2", "cg4", "cg5", "cg8"]),
                true,
                true,
            ),
            (
                ids(&["cg4", "cg3", "cg2_TC11", "cg1"]),
                vec![],
                false,
                false,
            ),
            (
                ids(&["cg6", "cg5", "cg2"]),
                ids(&["cg3", "cg6"]),
                false,
                true,
            ),
            (ids(&["cg7"]), vec![], false, false),
        ];
        for p in [&p_rows, &p_cols] {
            let path = p.to_str().unwrap();
            let opts = ReaderOptions::default();
            let mut alone = Vec::new();
            for (d, s, m, sink) in &reqs {
                let o = ReaderOptions {
                    sample_moments: *m,
                    ..opts.clone()
                };
                let mut log = Log::default();
                let v = read_methylation_with(
                    path,
                    d,
                    s,
                    &o,
                    sink.then_some(&mut log as &mut dyn StreamSink),
                )
                .unwrap();
                alone.push((v, log.0, log.1));
            }
            let mut logs: Vec<Log> = reqs.iter().map(|_| Log::default()).collect();
            let mut requests: Vec<Request> = reqs
                .iter()
                .zip(logs.iter_mut())
                .map(|((d, s, m, sink), log)| Request {
                    dense: d,
                    streamed: s,
                    sample_moments: *m,
                    sink: sink.then_some(log as &mut dyn StreamSink),
                })
                .collect();
            let (views, stats) = read_shared(path, &mut requests, &opts).unwrap();
            drop(requests);
            assert_eq!(stats.n_samples, 3);
            assert_eq!(stats.n_cpgs, 9);
            for (k, ((v, rows, n), log)) in alone.iter().zip(&logs).enumerate() {
                let got = &views[k];
                assert_eq!(got.cpgs, v.cpgs, "{path} consumer {k}");
                assert_eq!(got.probes, v.probes, "{path} consumer {k}");
                let bits = |x: &[f64]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&got.values.to_dense()),
                    bits(&v.values.to_dense()),
                    "{path} consumer {k}"
                );
                assert_eq!(got.moments, v.moments, "{path} consumer {k}");
                // missing_cells of a CpG-rows file with EPICv2 replicates: counted after
                // averaging in the shared read (see the module doc); everything else is equal.
                let (mut a, mut b) = (got.notes.clone(), v.notes.clone());
                if p == &p_rows {
                    assert!(a.missing_cells <= b.missing_cells, "{path} consumer {k}");
                    (a.missing_cells, b.missing_cells) = (0, 0);
                }
                assert_eq!(a, b, "{path} consumer {k}");
                assert_eq!(got.samples, v.samples);
                assert_eq!(&log.0, rows, "{path} consumer {k}: sink rows");
                assert_eq!(log.1, *n, "{path} consumer {k}: sink start");
            }
        }
    }
}
