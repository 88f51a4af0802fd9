//! `GetAvailabilityMetrics` answers in their wire form. The metric rows
//! are most of an answer's bytes, and between two answers only the groups
//! a report changed differ: each row is kept encoded beside the sum it was
//! made from and used again while the answer holds that very sum (the same
//! `Arc` the view keeps), so the answer after one new report encodes one
//! row instead of every row.
//!
//! It converts and encodes, nothing more: it never decides what a caller
//! may see and never computes a figure. A row's bytes are a pure function
//! of its group and its sum, so a row kept from one answer is, byte for
//! byte, what any other answer holding the same sum would encode.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use cosx_availability as core;
use cosx_proto::v1 as pb;
use prost::Message;
use prost::bytes::{Bytes, BytesMut};

use super::convert::*;
use crate::signals::availability::{AvailabilityMetrics, GroupKey, TmsHealth};

/// The metric rows of the last answer encoded, in its order, each with
/// the sum and group it was encoded from. A row is found where it was (an
/// answer after a report lists the same groups in the same order), else by
/// its sum's address (a group came or went): no key is hashed or compared
/// but the one that matched.
#[derive(Default)]
pub(crate) struct EncodedRows {
    kept: Mutex<Vec<Option<Row>>>,
}

/// A sum, its group, and its row encoded (field 1 of the response, tag and
/// length included).
type Row = (Arc<core::Rollup<()>>, GroupKey, Bytes);

impl EncodedRows {
    /// `m` encoded as a `GetAvailabilityMetricsResponse`: byte for byte
    /// what prost encodes for [`response`]`(m)`.
    pub(crate) fn encode(&self, m: &AvailabilityMetrics) -> Bytes {
        self.assemble(m).0
    }

    /// The encoded answer, and how many rows were encoded afresh.
    fn assemble(&self, m: &AvailabilityMetrics) -> (Bytes, usize) {
        let rest = rest(m).encode_to_vec();
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let mut was = std::mem::take(&mut *kept);
        // Where each kept sum lies, made only once a row is not where it was.
        let mut places: Option<HashMap<usize, usize>> = None;
        let mut afresh = 0;
        let mut next = Vec::with_capacity(m.metrics.len());
        for (i, (key, sum)) in m.metrics.iter().enumerate() {
            let same = |row: &mut Row| Arc::ptr_eq(&row.0, sum) && row.1 == *key;
            let mut row = was.get_mut(i).and_then(|slot| slot.take_if(same));
            if row.is_none() {
                let places = places.get_or_insert_with(|| {
                    let at = |(j, row): (usize, &Option<Row>)| row.as_ref().map(|r| (Arc::as_ptr(&r.0) as usize, j));
                    was.iter().enumerate().filter_map(at).collect()
                });
                if let Some(&j) = places.get(&(Arc::as_ptr(sum) as usize)) {
                    row = was[j].take_if(same);
                }
            }
            next.push(Some(row.unwrap_or_else(|| {
                afresh += 1;
                let mut bytes = Vec::new();
                prost::encoding::message::encode(1, &metric(key, sum), &mut bytes);
                (Arc::clone(sum), key.clone(), Bytes::from(bytes))
            })));
        }
        // Field 1 (the rows) comes first in prost's order, then the rest.
        let rows = || next.iter().flatten().map(|row| &row.2);
        let mut out = BytesMut::with_capacity(rows().map(Bytes::len).sum::<usize>() + rest.len());
        for row in rows() {
            out.extend_from_slice(row);
        }
        out.extend_from_slice(&rest);
        *kept = next;
        drop(kept);
        drop(was);
        (out.freeze(), afresh)
    }
}

/// The whole answer as a message.
#[cfg(test)]
fn response(m: &AvailabilityMetrics) -> pb::GetAvailabilityMetricsResponse {
    pb::GetAvailabilityMetricsResponse { metrics: m.metrics.iter().map(|(k, r)| metric(k, r)).collect(), ..rest(m) }
}

/// The answer but its metric rows.
fn rest(m: &AvailabilityMetrics) -> pb::GetAvailabilityMetricsResponse {
    pb::GetAvailabilityMetricsResponse {
        metrics: Vec::new(),
        health: m.health.iter().map(health).collect(),
        assets: m
            .assets
            .iter()
            .flat_map(|a| {
                a.assets.iter().map(move |asset| pb::AssetMetric {
                    owner: a.owner.clone(),
                    tms: a.tms.clone(),
                    timeframe_start: a.timeframe.first.to_string(),
                    timeframe_end: a.timeframe.last.to_string(),
                    serial: asset.serial.clone(),
                    pmai: asset.pmai,
                    time: Some(time_account(&asset.time)),
                    availability: asset.time.availability(),
                })
            })
            .collect(),
        reports_considered: m.reports_considered as u32,
    }
}

/// One metric row.
fn metric(key: &GroupKey, r: &core::Rollup<()>) -> pb::AvailabilityMetric {
    pb::AvailabilityMetric {
        tms: key.tms.clone().unwrap_or_default(),
        timeframe_start: key.timeframe.map(|t| t.0.to_string()).unwrap_or_default(),
        timeframe_end: key.timeframe.map(|t| t.1.to_string()).unwrap_or_default(),
        owner: key.owner.clone().unwrap_or_default(),
        department: key.department.map_or(0, department_out),
        nation: key.nation.clone().unwrap_or_default(),
        region: key.region.map_or(0, region_out),
        reports: r.reports as u32,
        tai_inventory: r.tai_inventory,
        pmai_inventory: r.pmai_inventory,
        tai_time: Some(time_account(&r.tai_time)),
        pmai_time: Some(time_account(&r.pmai_time)),
        costs: Some(pb::CostBreakdown {
            by_element: r.costs.by_element.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            cda_cents: r.costs.cda_cents,
            excluded_cents: r.costs.excluded_cents,
        }),
        a_m: r.a_m,
        a_o: r.a_o,
        cost_per_day_of_availability: r.cost_per_day_of_availability,
    }
}

/// One fleet's health.
fn health(h: &TmsHealth) -> pb::TmsHealth {
    pb::TmsHealth {
        owner: h.owner.clone(),
        tms: h.tms.clone(),
        system_category: category_out(h.category),
        window_start: h.rolling.window.first.to_string(),
        window_end: h.rolling.window.last.to_string(),
        months_with_data: h.rolling.months_with_data,
        rolling_a_m: h.rolling.a_m,
        rolling_a_o: h.rolling.a_o,
        target_a_m: h.target.as_ref().and_then(|t| t.a_m),
        target_a_o: h.target.as_ref().and_then(|t| t.a_o),
        high_non_availability_a_m: Some(check(&h.high_non_availability.a_m)),
        high_non_availability_a_o: Some(check(&h.high_non_availability.a_o)),
        cda_by_fiscal_year: h
            .cda_by_fiscal_year
            .iter()
            .map(|f| pb::FiscalYearCda {
                fiscal_year: f.fiscal_year.year(),
                reports: f.reports as u32,
                cda_cents: f.cda_cents,
                pmai_available_days: f.pmai_available.get(),
                cost_per_day_of_availability: f.cost_per_day_of_availability,
            })
            .collect(),
        excessive_cda_fiscal_year: h.excessive_cda.assessed.year(),
        cda_growth: h
            .excessive_cda
            .years
            .iter()
            .map(|g| pb::CdaGrowth {
                fiscal_year: g.fiscal_year.year(),
                previous: g.previous,
                current: g.current,
                growth: g.growth,
                more_than_ten_percent: g.more_than_ten_percent,
            })
            .collect(),
        excessive_cda: h.excessive_cda.fires,
        excessive_cda_source_fiscal_years: h.excessive_cda.cda_fiscal_years.iter().map(|fy| fy.year()).collect(),
        reports_outside_window: u32::try_from(h.rolling.reports_not_inside).unwrap_or(u32::MAX),
    }
}

/// Time by category, as the API counts it.
fn time_account(t: &core::TimeAccount) -> pb::TimeAccount {
    pb::TimeAccount {
        possible: t.possible.get(),
        available: t.available.get(),
        nmcm: t.nmcm.get(),
        nmcs: t.nmcs.get(),
        depot: t.depot.get(),
        upnr_reported: t.upnr_reported.get(),
        upnr_unaccounted: t.upnr_unaccounted.get(),
        upnr_missing_assets: t.upnr_missing_assets.get(),
    }
}

/// One non-availability check.
fn check(c: &core::NonAvailabilityCheck) -> pb::NonAvailabilityCheck {
    pb::NonAvailabilityCheck {
        inventory: c.inventory,
        threshold: c.threshold,
        rolling_average: c.rolling_average,
        target: c.target,
        trigger_at_or_below: c.trigger_at_or_below,
        fires: c.fires,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::NaiveDate;
    use cosx_domain::Nation;

    use super::*;
    use crate::signals::availability::tests::next_report;
    use crate::signals::availability::{CurrentReports, MetricsQuery, metrics};

    /// Every answer is what prost encodes for the whole message, whichever
    /// rows were kept; between two answers only a changed group is encoded.
    #[test]
    fn an_answer_is_prosts_encoding_and_a_new_report_encodes_only_its_group() {
        let (mut current, mut latest, mut seed) = (CurrentReports::default(), std::collections::HashMap::new(), 5_u64);
        let usa = Nation::parse("USA").unwrap();
        for i in 0..200 {
            current.apply(&next_report(i, &mut seed, &mut latest), usa.clone());
        }
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let rows = EncodedRows::default();
        let whole = MetricsQuery::default();
        let answer = |current: &CurrentReports, q: &MetricsQuery, hidden: &str| {
            metrics(current, |r| r.id != hidden, &[], q, today).unwrap()
        };
        let check = |m: &AvailabilityMetrics| {
            let (bytes, afresh) = rows.assemble(m);
            assert_eq!(bytes, response(m).encode_to_vec(), "not prost's encoding");
            afresh
        };
        let first = answer(&current, &whole, "");
        assert!(first.metrics.len() > 20 && !first.health.is_empty());
        assert_eq!(check(&first), first.metrics.len(), "the first answer encodes every row");
        assert_eq!(check(&answer(&current, &whole, "")), 0, "nothing changed, nothing encoded");
        current.apply(&next_report(200, &mut seed, &mut latest), usa.clone());
        assert_eq!(check(&answer(&current, &whole, "")), 1, "one report changes one group");
        // A report of a TMS not seen before makes a group that sorts first:
        // every other row moves, and is found where it went.
        let mut first_of_its_tms = next_report(201, &mut seed, &mut latest);
        first_of_its_tms.draft.tms = cosx_domain::Tms::parse("A-10C").unwrap();
        first_of_its_tms.supersedes = None;
        current.apply(&first_of_its_tms, usa.clone());
        let moved = answer(&current, &whole, "");
        assert_eq!(moved.metrics[0].0.tms.as_deref(), Some("A-10C"));
        assert_eq!(check(&moved), 1, "only the new group is encoded");
        // Assets asked: the same kept sums, and the asset rows besides.
        let assets = answer(&current, &MetricsQuery { include_assets: true, ..MetricsQuery::default() }, "");
        assert!(!assets.assets.is_empty());
        assert_eq!(check(&assets), 0);
        // A caller who may not see one report gets sums of its own: encoded
        // afresh, still prost's bytes, and the next whole answer again.
        let hidden = current.iter().next().map(|k| k.report.id.clone()).unwrap();
        let by_report = answer(&current, &whole, &hidden);
        assert_eq!(check(&by_report), by_report.metrics.len());
        let back = answer(&current, &whole, "");
        assert_eq!(check(&back), back.metrics.len(), "the kept rows were the other answer's");
        assert_eq!(check(&back), 0);
    }
}
