//! Availability reports in and out, checked against the instruction's own identities.
//!
//! Pure conversion: never authorizes, never stores.

#[allow(unused_imports)]
use super::*;

// ----- availability reports -----------------------------------------------

const MAX_ASSETS: usize = 10_000;
/// Tolerance for float rounding when sums are compared with possible time.
const SLACK: f64 = 1e-9;

fn times_in(v: &mut Violations, prefix: &str, t: &pb::TimeByCategory) -> TimeByCategory {
    TimeByCategory {
        available: non_negative(v, format!("{prefix}.available"), t.available),
        nmcm: non_negative(v, format!("{prefix}.nmcm"), t.nmcm),
        nmcs: non_negative(v, format!("{prefix}.nmcs"), t.nmcs),
        depot: non_negative(v, format!("{prefix}.depot"), t.depot),
        upnr: non_negative(v, format!("{prefix}.upnr"), t.upnr),
    }
}

fn times_out(t: &TimeByCategory) -> pb::TimeByCategory {
    pb::TimeByCategory { available: t.available, nmcm: t.nmcm, nmcs: t.nmcs, depot: t.depot, upnr: t.upnr }
}

fn check_within(v: &mut Violations, prefix: &str, t: &TimeByCategory, possible: f64) {
    let limit = possible * (1.0 + SLACK) + SLACK;
    for (name, x) in
        [("available", t.available), ("nmcm", t.nmcm), ("nmcs", t.nmcs), ("depot", t.depot), ("upnr", t.upnr)]
    {
        if x > limit {
            v.add(format!("{prefix}.{name}"), format!("{x} exceeds the possible time {possible}"));
        }
    }
    if t.total() > limit {
        v.add(prefix, format!("categories sum to {}, more than the possible time {possible}", t.total()));
    }
}

/// Parses an availability report: unit, inventory identities, and no time
/// beyond what is possible.
pub fn availability_report_in(
    v: &mut Violations,
    prefix: &str,
    r: &Option<pb::AvailabilityReport>,
) -> Option<AvailabilityReportDraft> {
    let Some(r) = r else {
        v.add(prefix, "is required");
        return None;
    };
    let f = |field: &str| at(prefix, field);
    let reporter = party_id(v, f("reporter"), &r.reporter);
    let tms = tms(v, f("tms"), &r.tms);
    let system_category = category_in(v, f("system_category"), r.system_category);
    let department = optional_department(v, f("department"), r.department);
    let region = region_in(v, f("region"), r.region);
    let start = date(v, f("timeframe_start"), &r.timeframe_start);
    let end = date(v, f("timeframe_end"), &r.timeframe_end);
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        v.add(f("timeframe_end"), format!("{e} is before timeframe_start {s}"));
    }
    let time_unit = time_unit_in(v, f("time_unit"), r.time_unit);
    let inventory = match &r.inventory {
        None => {
            v.add(f("inventory"), "is required");
            None
        }
        Some(i) => Some(inventory_in(v, &f("inventory"), i)),
    };
    let tai_time = r.tai_time.as_ref().map(|t| times_in(v, &f("tai_time"), t));
    let pmai_time = r.pmai_time.as_ref().map(|t| times_in(v, &f("pmai_time"), t));
    if r.assets.len() > MAX_ASSETS {
        v.add(f("assets"), format!("at most {MAX_ASSETS} assets per report"));
    }
    let mut serials = std::collections::HashSet::new();
    let assets: Vec<AssetAvailability> = r
        .assets
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let g = |field: &str| format!("{prefix}.assets[{i}].{field}");
            let serial = required_text(v, g("serial"), &a.serial)?;
            if !serials.insert(serial.clone()) {
                v.add(g("serial"), format!("{serial:?} appears twice"));
            }
            let time = a.time.as_ref().map(|t| times_in(v, &g("time"), t)).unwrap_or_default();
            Some(AssetAvailability { serial, pmai: a.pmai, possible: non_negative(v, g("possible"), a.possible), time })
        })
        .collect();
    if !assets.is_empty() && (tai_time.is_some() || pmai_time.is_some()) {
        v.add(f("assets"), "give fleet totals (tai_time, pmai_time) or assets, not both");
    }
    if assets.is_empty() && tai_time.is_none() {
        v.add(f("tai_time"), "is required when no assets are given");
    }
    let costs: Vec<(String, Money)> = r
        .costs
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let g = |field: &str| format!("{prefix}.costs[{i}].{field}");
            let element = required_text(v, g("element"), &c.element);
            if let Some(e) = &element
                && !e.split('.').all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
            {
                v.add(g("element"), format!("{e:?}: expected a cost element such as 1.2, 3.1 or 3.2"));
            }
            if c.amount.is_none() {
                v.add(g("amount"), "is required");
            }
            Some((element?, money(v, g("amount"), &c.amount)?))
        })
        .collect();
    let releasability = releasability(v, &f("releasability"), &r.releasability);
    let draft = AvailabilityReportDraft {
        reporter: reporter?,
        tms: tms?,
        system_category: system_category?,
        department,
        region: region?,
        timeframe_start: start?,
        timeframe_end: end?,
        time_unit: time_unit?,
        inventory: inventory?,
        tai_time,
        pmai_time,
        assets,
        costs,
        releasability,
    };
    if draft.timeframe_end < draft.timeframe_start {
        return None;
    }
    // Time can never exceed what is possible: inventory × length of the timeframe.
    let length = draft.timeframe_length();
    let tai_possible = f64::from(draft.inventory.tai) * length;
    let pmai_possible = f64::from(draft.inventory.pmai) * length;
    if let Some(t) = &draft.tai_time {
        check_within(v, &f("tai_time"), t, tai_possible);
    }
    if let Some(t) = &draft.pmai_time {
        check_within(v, &f("pmai_time"), t, pmai_possible);
    }
    for (i, a) in draft.assets.iter().enumerate() {
        if a.possible > length * (1.0 + SLACK) {
            v.add(
                format!("{prefix}.assets[{i}].possible"),
                format!("{} exceeds the length of the timeframe {length}", a.possible),
            );
        }
        check_within(v, &format!("{prefix}.assets[{i}].time"), &a.time, a.possible);
    }
    if draft.assets.len() > draft.inventory.tai as usize {
        v.add(
            f("assets"),
            format!("{} assets reported but inventory.tai is {}", draft.assets.len(), draft.inventory.tai),
        );
    }
    Some(draft)
}

fn inventory_in(v: &mut Violations, prefix: &str, i: &pb::Inventory) -> Inventory {
    let inv = Inventory {
        toai: i.toai,
        tai: i.tai,
        pai: i.pai,
        bai: i.bai,
        pwr: i.pwr,
        ar: i.ar,
        tii: i.tii,
        epsli: i.epsli,
        pmai: i.pmai,
    };
    let parts = [inv.pai, inv.bai, inv.pwr, inv.ar];
    if parts.iter().all(Option::is_some) {
        let sum: u64 = parts.iter().flatten().map(|&x| u64::from(x)).sum();
        if sum != u64::from(inv.tai) {
            v.add(format!("{prefix}.tai"), format!("TAI = PAI + BAI + PWR + AR must hold: {} != {sum}", inv.tai));
        }
    } else {
        let sum: u64 = parts.iter().flatten().map(|&x| u64::from(x)).sum();
        if sum > u64::from(inv.tai) {
            v.add(format!("{prefix}.tai"), format!("PAI + BAI + PWR + AR given so far ({sum}) exceed TAI {}", inv.tai));
        }
    }
    if let Some(toai) = inv.toai {
        let sum = u64::from(inv.tai) + u64::from(inv.tii.unwrap_or(0)) + u64::from(inv.epsli.unwrap_or(0));
        let complete = inv.tii.is_some() && inv.epsli.is_some();
        if (complete && sum != u64::from(toai)) || sum > u64::from(toai) {
            v.add(format!("{prefix}.toai"), format!("TOAI = TAI + TII + EPSLI must hold: {toai} vs {sum}"));
        }
    }
    let pmai_limit = inv.pai.unwrap_or(inv.tai);
    if inv.pmai > pmai_limit {
        v.add(format!("{prefix}.pmai"), format!("PMAI {} is part of PAI and cannot exceed {pmai_limit}", inv.pmai));
    }
    inv
}

/// An availability report for a response.
pub fn availability_report_out(r: &AvailabilityReport) -> pb::AvailabilityReport {
    let d = &r.draft;
    let i = &d.inventory;
    pb::AvailabilityReport {
        sync: None,
        name: format!("availabilityReports/{}", r.id),
        reporter: d.reporter.to_string(),
        tms: d.tms.to_string(),
        system_category: category_out(d.system_category),
        department: d.department.map_or(0, department_out),
        region: region_out(d.region),
        timeframe_start: d.timeframe_start.to_string(),
        timeframe_end: d.timeframe_end.to_string(),
        time_unit: time_unit_out(d.time_unit),
        inventory: Some(pb::Inventory {
            toai: i.toai,
            tai: i.tai,
            pai: i.pai,
            bai: i.bai,
            pwr: i.pwr,
            ar: i.ar,
            tii: i.tii,
            epsli: i.epsli,
            pmai: i.pmai,
        }),
        tai_time: d.tai_time.as_ref().map(times_out),
        pmai_time: d.pmai_time.as_ref().map(times_out),
        assets: d
            .assets
            .iter()
            .map(|a| pb::AssetAvailability {
                serial: a.serial.clone(),
                pmai: a.pmai,
                possible: a.possible,
                time: Some(times_out(&a.time)),
            })
            .collect(),
        costs: d
            .costs
            .iter()
            .map(|(e, m)| pb::CostElementAmount { element: e.clone(), amount: money_out(&Some(m.clone())) })
            .collect(),
        releasability: releasability_out(&d.releasability),
        version: r.version,
        supersedes: r.supersedes.as_ref().map(|s| format!("availabilityReports/{s}")).unwrap_or_default(),
        create_time: timestamp(r.create_time),
    }
}
