//! Smoke fuzz, on stable and in CI: mutated encodings of valid requests, and
//! random bytes, through every request type's decode → parse → validate
//! path (`cosx_coordinator::fuzzing`, the same entry points as the `cargo fuzz`
//! targets in `fuzz/`), and mutated exported audit logs through the offline
//! verifier. Any panic fails the test. `COSX_FUZZ_SECONDS` sets the time per
//! target (default 0.25 s); `COSX_FUZZ_SEED` replays a run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use cosx_coordinator::fuzzing::{self, METHODS, Outcome};
use cosx_proto::v1 as pb;
use cosx_tests::{availability_report, capacity_offer, party, repair_order};
use prost::Message;

/// xorshift64*: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const INTERESTING: &[&[u8]] = &[
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",     // varint u64::MAX
    b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", // overlong varint
    b"\x00\x00\xc0\x7f",                             // f32 NaN
    b"\x00\x00\x00\x00\x00\x00\xf8\x7f",             // f64 NaN
    b"\x00\x00\x00\x00\x00\x00\xf0\x7f",             // f64 +inf
    "\u{202e}\u{0000}é\u{1F600}".as_bytes(),
    b"repairOrders/../../etc",
    b"9999-99-99",
];

/// One mutation of `input`: bit flips, byte sets, inserts, deletes,
/// truncation, duplication, a splice of another seed, or an interesting value.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                out.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(16)).min(len);
                out.drain(i..j);
            }
            4 => out.truncate(rng.below(len + 1)),
            5 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(64)).min(len);
                let chunk = out[i..j].to_vec();
                let at = rng.below(len + 1);
                out.splice(at..at, chunk);
            }
            6 if !other.is_empty() => {
                let i = rng.below(other.len());
                let j = (i + 1 + rng.below(64)).min(other.len());
                let at = rng.below(len + 1);
                out.splice(at..at, other[i..j].iter().copied());
            }
            _ => {
                let value = INTERESTING[rng.below(INTERESTING.len())];
                let at = rng.below(len + 1);
                out.splice(at..at, value.iter().copied());
            }
        }
    }
    out
}

/// Valid encodings of each request type, to mutate from.
fn seeds(method: &str) -> Vec<Vec<u8>> {
    let order = repair_order(party::USAF);
    let offer = capacity_offer(party::MHI);
    let report = availability_report(party::USAF);
    let name = |n: &str| pb::GetRepairOrderRequest { name: n.into() }.encode_to_vec();
    let mut out = match method {
        "CreateRepairOrder" => {
            vec![
                pb::CreateRepairOrderRequest {
                    repair_order: Some(order.clone()),
                    request_id: "r-1".into(),
                    ..Default::default()
                }
                .encode_to_vec(),
            ]
        }
        "CreateCapacityOffer" | "UpdateCapacityOffer" => {
            let mut named = offer.clone();
            named.name = "capacityOffers/0190".into();
            vec![
                pb::CreateCapacityOfferRequest {
                    capacity_offer: Some(offer.clone()),
                    request_id: "o-1".into(),
                    ..Default::default()
                }
                .encode_to_vec(),
                pb::UpdateCapacityOfferRequest { capacity_offer: Some(named), ..Default::default() }.encode_to_vec(),
            ]
        }
        "SubmitAvailabilityReport" => vec![
            pb::SubmitAvailabilityReportRequest {
                availability_report: Some(report.clone()),
                request_id: "a-1".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        ],
        "Ingest" => [
            pb::ingest_request::Record::RepairOrder(order),
            pb::ingest_request::Record::CapacityOffer(offer),
            pb::ingest_request::Record::AvailabilityReport(report),
        ]
        .into_iter()
        .map(|r| pb::IngestRequest { request_id: "i-1".into(), record: Some(r), ..Default::default() }.encode_to_vec())
        .collect(),
        "TransitionRepairOrder" => vec![
            pb::TransitionRepairOrderRequest {
                name: "repairOrders/0190".into(),
                version: 3,
                action: 1,
                reason: "parts arrived".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        ],
        "SplitRepairOrder" => vec![
            pb::SplitRepairOrderRequest {
                name: "repairOrders/0190".into(),
                version: 1,
                quantities: vec![2, 2],
                request_id: "s-1".into(),
            }
            .encode_to_vec(),
        ],
        "RegisterParty" => vec![
            pb::RegisterPartyRequest {
                party: Some(pb::Party {
                    name: "parties/NZL-RNZAF-WHENUAPAI".into(),
                    kind: pb::PartyKind::PartnerGovernment as i32,
                    nation: "NZL".into(),
                    ..Default::default()
                }),
                request_id: "p-1".into(),
            }
            .encode_to_vec(),
        ],
        "SuspendParty" | "GetParty" => vec![
            pb::SuspendPartyRequest { name: "parties/KOR-KAI-SACHEON".into(), reason: "x".into(), etag: "3".into() }
                .encode_to_vec(),
        ],
        "SubmitQuote" => vec![
            pb::SubmitQuoteRequest {
                name: "repairOrders/US-USAF-OOALC.o1/quotes/JPN-MHI-KOMAKI".into(),
                terms: Some(pb::QuoteTerms {
                    kind: pb::QuoteKind::Final as i32,
                    price: Some(pb::Money { currency_code: "USD".into(), amount_minor: 1_000_000 }),
                    turnaround_days: 30,
                    process: pb::RepairProcess::Repair as i32,
                    valid_until: "2027-02-01".into(),
                    conditions: "none".into(),
                }),
                version: 1,
                request_id: "q-1".into(),
            }
            .encode_to_vec(),
        ],
        "GetQuote" | "AcceptQuote" => vec![name("repairOrders/US-USAF-OOALC.o1/quotes/JPN-MHI-KOMAKI")],
        "AddComment" | "EditComment" => {
            let content = Some(pb::CommentContent {
                comment_type: pb::CommentType::Warning as i32,
                reference_dates: vec!["2027-02-01".into()],
                text: "Seal kit on back order.".into(),
            });
            vec![
                pb::AddCommentRequest {
                    parent: "repairOrders/US-USAF-OOALC.o1".into(),
                    content: content.clone(),
                    request_id: "c-1".into(),
                    demand_cell: None,
                }
                .encode_to_vec(),
                pb::EditCommentRequest {
                    name: "capacityOffers/JPN-MHI-KOMAKI.f1/comments/0a1b".into(),
                    content,
                    version: 1,
                    request_id: "c-2".into(),
                }
                .encode_to_vec(),
            ]
        }
        "GetComment" => vec![name("availabilityReports/r1/comments/0a1b")],
        "RequestUpdate" => vec![
            pb::RequestUpdateRequest {
                record: "repairOrders/US-USAF-OOALC.o1".into(),
                text: "please".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            pb::RequestUpdateRequest {
                missing_report: Some(pb::MissingReport {
                    party: "US-USAF-OOALC".into(),
                    month: "2027-01".into(),
                    tms: vec!["F-16C".into()],
                }),
                ..Default::default()
            }
            .encode_to_vec(),
        ],
        "AnswerUpdateRequest" => vec![
            pb::AnswerUpdateRequestRequest {
                name: "updateRequests/0190".into(),
                answer: "sent".into(),
                version: 1,
                request_id: "a-1".into(),
            }
            .encode_to_vec(),
        ],
        "RaiseException" => vec![
            pb::RaiseExceptionRequest {
                parent: "repairOrders/US-USAF-OOALC.o1".into(),
                kind: pb::RepairExceptionKind::CostOverEstimate as i32,
                new_estimate: Some(pb::Money { currency_code: "USD".into(), amount_minor: 2_000_000 }),
                text: "corrosion".into(),
                request_id: "x-1".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        ],
        "AnswerException" => vec![
            pb::AnswerExceptionRequest {
                name: "repairOrders/US-USAF-OOALC.o1/exceptions/1".into(),
                decision: pb::answer_exception_request::Decision::Reject as i32,
                reason: "too dear".into(),
                request_id: "x-2".into(),
            }
            .encode_to_vec(),
        ],
        "DeclareDisruption" => vec![
            pb::DeclareDisruptionRequest {
                disruption: Some(pb::Disruption {
                    site: "Komaki South".into(),
                    cause: pb::DisruptionCause::NaturalDisaster as i32,
                    capacity_reduction_percent: 60,
                    capabilities: vec![pb::AffectedCapability { tms_or_family: "F-35A".into(), maintenance_level: 3 }],
                    start_date: "2027-03-01".into(),
                    expected_end_date: "2027-03-31".into(),
                    text: "Typhoon".into(),
                    ..Default::default()
                }),
                request_id: "d-1".into(),
            }
            .encode_to_vec(),
        ],
        "ResolveDisruption" => vec![
            pb::ResolveDisruptionRequest {
                name: "disruptions/JPN-MHI-KOMAKI.0190".into(),
                resolution: "Power restored".into(),
                version: 1,
                request_id: String::new(),
            }
            .encode_to_vec(),
        ],
        "Subscribe" => {
            vec![pb::SubscribeRequest { after_sequence: 42, kinds: vec![1, 2], ..Default::default() }.encode_to_vec()]
        }
        _ => vec![name("repairOrders/0190"), name("capacityOffers/0190"), name("availabilityReports/0190")],
    };
    out.push(Vec::new());
    out
}

fn budget() -> Duration {
    let secs = std::env::var("COSX_FUZZ_SECONDS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.25);
    Duration::from_secs_f64(secs)
}

fn seed() -> u64 {
    std::env::var("COSX_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_C05C) | 1
}

#[test]
fn every_request_type_survives_mutated_and_random_input() {
    let mut rng = Rng(seed());
    let (mut total, started) = (0u64, Instant::now());
    for method in METHODS {
        let seeds = seeds(method);
        // The seeds themselves decode.
        assert!(seeds.iter().any(|s| fuzzing::request(method, s) != Outcome::Undecodable), "{method} seed");
        let mut accepted = 0;
        let until = Instant::now() + budget();
        while Instant::now() < until {
            for _ in 0..64 {
                let base = &seeds[rng.below(seeds.len())];
                let other = &seeds[rng.below(seeds.len())];
                let input = if rng.below(10) == 0 {
                    (0..rng.below(256)).map(|_| rng.next() as u8).collect()
                } else {
                    mutate(&mut rng, base, other)
                };
                if fuzzing::request(method, &input) == Outcome::Accepted {
                    accepted += 1;
                }
                total += 1;
            }
        }
        // Mutants of valid requests are mostly refused, but some still pass.
        let _ = accepted;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!("request smoke fuzz: {total} inputs over {} request types, {rate:.0} inputs/s", METHODS.len());
    assert!(total > 1000);
}

#[test]
fn the_audit_verifier_survives_mutated_logs() {
    use cosx_domain::audit::{AuditEntry, GENESIS, entry_hash};
    // A valid three-entry chain, exported as JSON lines.
    let mut prev = GENESIS.to_owned();
    let mut lines = Vec::new();
    for sequence in 1..=3i64 {
        let (time, kind, actor, cert, content) =
            ("2026-10-01T00:00:00Z", "REPAIR_ORDER_CREATED", "US-USAF-OOALC", "ab12", "{\"quantity\":4}");
        let hash = entry_hash(sequence, time, kind, actor, cert, content, &prev);
        let entry = AuditEntry {
            sequence,
            time: time.into(),
            kind: kind.into(),
            actor: actor.into(),
            actor_cert: cert.into(),
            content: content.into(),
            prev_hash: prev.clone(),
            hash: hash.clone(),
        };
        lines.push(serde_json::to_string(&entry).expect("json"));
        prev = hash;
    }
    let valid = lines.join("\n").into_bytes();
    assert!(fuzzing::audit_log(&valid), "the seed log verifies");

    let mut rng = Rng(seed());
    let (mut total, mut verified_mutants, started) = (0u64, 0u64, Instant::now());
    while started.elapsed() < budget() * 4 {
        let input = mutate(&mut rng, &valid, &valid);
        if input != valid && fuzzing::audit_log(&input) {
            verified_mutants += 1;
        }
        total += 1;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!("audit smoke fuzz: {total} inputs, {rate:.0} inputs/s, {verified_mutants} mutants still verified");
    assert!(total > 100);
}
