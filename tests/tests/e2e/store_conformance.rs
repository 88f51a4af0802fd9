//! The storage-trait conformance suite: what every `Store` must do, checked
//! through the trait alone. Every case runs on SQLite, and on PostgreSQL when
//! `COSX_TEST_DATABASE_URL` is set — each in a fresh database of its own;
//! without the variable the PostgreSQL cases say "PostgreSQL skipped" and pass.
//!
//! Cases that race use two store instances on one database, as two
//! coordinator replicas would.
//!
//! Longer than our ~800-line guide on purpose: it is the one list a new
//! backend is checked against, and its cases share fixtures.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use cosx_coordinator::audit;
use cosx_coordinator::store::{
    self, Audience, Commit, Committed, IdempotencyKey, LogNotice, NewEvent, RecordFilter, RecordKind, RecordWrite,
    Store, StoreError, TransitionWrite, Viewer,
};
use cosx_tests::database::{Backend, TestDatabase, postgres_url};
use futures::StreamExt;
use sqlx::Connection;

/// A fresh database for one case, and the way to open stores on it.
struct Db {
    database: TestDatabase,
    _dir: tempfile::TempDir,
}

impl Db {
    async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(store::connect(&self.database.url).await?)
    }
}

async fn run<F, Fut>(backend: Backend, case: F) -> anyhow::Result<()>
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let dir = tempfile::tempdir()?;
    let database = match backend {
        Backend::Sqlite => TestDatabase::sqlite_in(dir.path()),
        Backend::Postgres => match postgres_url() {
            Some(server) => TestDatabase::postgres(&server).await?,
            None => {
                println!("PostgreSQL skipped: {} not set", cosx_tests::database::DATABASE_URL_VAR);
                return Ok(());
            }
        },
    };
    case(Db { database, _dir: dir }).await
}

macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() -> anyhow::Result<()> {
                    super::run(super::Backend::Sqlite, super::$case).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() -> anyhow::Result<()> {
                    super::run(super::Backend::Postgres, super::$case).await
                }
            )+
        }
    };
}

conformance!(
    a_commit_writes_record_history_event_and_key_together,
    a_repeated_request_id_replays_the_first_response_and_writes_nothing,
    a_stale_version_or_an_existing_id_is_a_conflict_and_changes_nothing,
    a_new_report_version_supersedes_the_current_one,
    each_viewer_sees_only_what_it_may,
    the_store_shows_exactly_what_may_see_allows_on_random_records,
    listing_filters_and_pages_in_commit_order,
    the_registry_keeps_etags_and_refuses_stale_ones,
    the_log_is_a_hash_chain_that_verifies,
    the_log_refuses_update_and_delete_through_sql,
    concurrent_commits_from_two_instances_get_gap_free_sequences,
    a_reader_never_skips_an_entry_committed_late_by_another_instance,
    the_same_request_id_at_once_on_two_instances_stores_one_record,
    racing_updates_of_one_version_on_two_instances_let_exactly_one_win,
    followers_hear_commits_made_by_other_instances,
    reopening_keeps_everything_and_migrates_nothing_twice,
    many_commits_at_once_each_get_their_own_outcome_and_the_log_stays_whole,
    many_commits_at_once_without_database_errors_get_the_outcomes_of_one_at_a_time,
    quotes_list_by_their_order_and_show_only_to_owner_provider_and_coordinators,
    a_commits_further_events_follow_its_own_each_seen_by_its_own_audience,
);

// ----- building commits ---------------------------------------------------

fn owned_by(owner: &str) -> Audience {
    Audience { owner: owner.into(), ..Audience::default() }
}

fn event(kind: &str, subject: &str, audience: Audience) -> NewEvent {
    NewEvent {
        time: "2027-01-02T03:04:05.000006Z".into(),
        kind: kind.into(),
        actor: audience.owner.clone(),
        actor_cert: "c0ffee".into(),
        subject: subject.into(),
        content: format!("{{\"subject\":\"{subject}\"}}"),
        audience,
    }
}

fn order(id: &str, audience: Audience, expected: Option<i64>, version: i64) -> RecordWrite {
    RecordWrite {
        kind: RecordKind::RepairOrder,
        id: id.into(),
        expected_version: expected,
        version,
        audience,
        state: Some(if version == 1 { "SUBMITTED" } else { "PROPOSED" }.into()),
        tms: Some("F-35A".into()),
        region: Some("INDOPACOM".into()),
        natural_key: None,
        supersedes: None,
        body: format!("{{\"id\":\"{id}\",\"version\":{version}}}"),
    }
}

/// Creates order `id` (version 1) with its first lifecycle step.
fn create(id: &str, audience: Audience) -> Commit {
    Commit {
        idempotency: None,
        party: None,
        records: vec![order(id, audience.clone(), None, 1)],
        transitions: vec![TransitionWrite { order_id: id.into(), version: 1, body: "{\"to\":\"SUBMITTED\"}".into() }],
        event: event("REPAIR_ORDER_CREATED", &format!("repairOrders/{id}"), audience),
        more_events: vec![],
        response: format!("{{\"name\":\"repairOrders/{id}\"}}"),
    }
}

/// Moves order `id` from `from` to `from + 1`.
fn update(id: &str, audience: Audience, from: i64) -> Commit {
    Commit {
        idempotency: None,
        party: None,
        records: vec![order(id, audience.clone(), Some(from), from + 1)],
        transitions: vec![TransitionWrite {
            order_id: id.into(),
            version: from + 1,
            body: "{\"to\":\"PROPOSED\"}".into(),
        }],
        event: event("REPAIR_ORDER_PROPOSED", &format!("repairOrders/{id}"), audience),
        more_events: vec![],
        response: format!("{{\"version\":{}}}", from + 1),
    }
}

fn keyed(mut commit: Commit, caller: &str, request_id: &str, hash: &str) -> Commit {
    commit.idempotency =
        Some(IdempotencyKey { caller: caller.into(), request_id: request_id.into(), request_hash: hash.into() });
    commit
}

fn party_commit(id: &str, nation: &str, suspended: bool, expected: Option<i64>) -> anyhow::Result<Commit> {
    let party = serde_json::from_value(serde_json::json!({
        "id": id, "kind": "CONTRACTOR", "nation": nation, "department": null,
        "display_name": id, "suspended": suspended,
    }))?;
    Ok(Commit {
        idempotency: None,
        party: Some((party, expected)),
        records: vec![],
        transitions: vec![],
        event: event(
            if expected.is_none() { "PARTY_REGISTERED" } else { "PARTY_SUSPENDED" },
            &format!("parties/{id}"),
            Audience { owner: id.into(), everyone: true, ..Audience::default() },
        ),
        more_events: vec![],
        response: format!("{{\"id\":\"{id}\"}}"),
    })
}

fn viewer(party: &str, nation: &str) -> Viewer {
    Viewer { party: party.into(), nation: nation.into(), coordinator: false }
}

fn coordinator() -> Viewer {
    Viewer { party: "US-INDOPACOM-J4".into(), nation: "USA".into(), coordinator: true }
}

fn sequence(done: Committed) -> anyhow::Result<i64> {
    match done {
        Committed::New { sequence } => Ok(sequence),
        other => Err(anyhow::anyhow!("expected a new commit, got {other:?}")),
    }
}

async fn ids_seen(store: &dyn Store, viewer: &Viewer) -> anyhow::Result<BTreeSet<String>> {
    let records = store.list_records(RecordKind::RepairOrder, viewer, &RecordFilter::default(), 0, 1000).await?;
    records
        .iter()
        .map(|r| Ok(serde_json::from_str::<serde_json::Value>(&r.body)?["id"].as_str().unwrap_or("").to_owned()))
        .collect::<anyhow::Result<_>>()
}

async fn subjects_seen(store: &dyn Store, viewer: &Viewer) -> anyhow::Result<BTreeSet<String>> {
    Ok(store.events(viewer, 0, 1000).await?.into_iter().map(|e| e.subject).collect())
}

// ----- cases ----------------------------------------------------------------

async fn a_commit_writes_record_history_event_and_key_together(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    assert_eq!(store.head().await?, 0);
    let done = store.commit(keyed(create("o1", owned_by("US-USAF-OOALC")), "US-USAF-OOALC", "r1", "h1")).await?;
    assert_eq!(done, Committed::New { sequence: 1 });
    assert_eq!(store.head().await?, 1);
    assert_eq!(store.record(RecordKind::RepairOrder, "o1").await?.as_deref(), Some("{\"id\":\"o1\",\"version\":1}"));
    assert_eq!(store.record(RecordKind::CapacityOffer, "o1").await?, None, "a record is found under its own kind only");
    assert_eq!(store.transitions("o1").await?, vec![("{\"to\":\"SUBMITTED\"}".to_owned(), 1)]);
    assert_eq!(
        store.idempotent_response("US-USAF-OOALC", "r1").await?,
        Some(("h1".to_owned(), "{\"name\":\"repairOrders/o1\"}".to_owned()))
    );
    assert_eq!(store.idempotent_response("JPN-MHI-KOMAKI", "r1").await?, None, "keys are per caller");
    let events = store.events(&viewer("US-USAF-OOALC", "USA"), 0, 10).await?;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].subject, "repairOrders/o1");
    assert_eq!(events[0].entry.kind, "REPAIR_ORDER_CREATED");
    assert_eq!(events[0].entry.prev_hash, "0".repeat(64), "the first entry chains to GENESIS");
    Ok(())
}

async fn a_repeated_request_id_replays_the_first_response_and_writes_nothing(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    store.commit(keyed(create("o1", owned_by("US-USAF-OOALC")), "US-USAF-OOALC", "r1", "h1")).await?;
    let again = store.commit(keyed(create("o2", owned_by("US-USAF-OOALC")), "US-USAF-OOALC", "r1", "h1")).await?;
    assert_eq!(again, Committed::Replayed { response: "{\"name\":\"repairOrders/o1\"}".into() });
    let other = store.commit(keyed(create("o3", owned_by("US-USAF-OOALC")), "US-USAF-OOALC", "r1", "h2")).await;
    assert!(matches!(other, Err(StoreError::IdempotencyMismatch(ref id)) if id == "r1"), "{other:?}");
    assert_eq!(store.head().await?, 1);
    assert_eq!(store.record(RecordKind::RepairOrder, "o2").await?, None);
    assert_eq!(store.record(RecordKind::RepairOrder, "o3").await?, None);
    Ok(())
}

async fn a_stale_version_or_an_existing_id_is_a_conflict_and_changes_nothing(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    let usaf = owned_by("US-USAF-OOALC");
    store.commit(create("o1", usaf.clone())).await?;
    assert_eq!(sequence(store.commit(update("o1", usaf.clone(), 1)).await?)?, 2);
    let stale = store.commit(keyed(update("o1", usaf.clone(), 1), "US-USAF-OOALC", "late", "h")).await;
    assert!(matches!(stale, Err(StoreError::Conflict(ref id)) if id == "o1"), "{stale:?}");
    let twice = store.commit(create("o1", usaf.clone())).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    // Nothing of the refused commits remains: not the record, the history, the log, or the key.
    assert_eq!(store.head().await?, 2);
    assert_eq!(store.record(RecordKind::RepairOrder, "o1").await?.as_deref(), Some("{\"id\":\"o1\",\"version\":2}"));
    assert_eq!(store.transitions("o1").await?.len(), 2);
    assert_eq!(store.idempotent_response("US-USAF-OOALC", "late").await?, None);
    Ok(())
}

async fn a_new_report_version_supersedes_the_current_one(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    let key = "US-USAF-OOALC|F-35A|2026-10-01|2026-10-31";
    store.commit(report("a", key, None)).await?;
    assert_eq!(store.current_report(key).await?.as_deref(), Some("{\"id\":\"a\"}"));
    // A second current version without superseding the first is refused.
    assert!(matches!(store.commit(report("x", key, None)).await, Err(StoreError::Conflict(_))));
    store.commit(report("b", key, Some("a"))).await?;
    assert_eq!(store.current_report(key).await?.as_deref(), Some("{\"id\":\"b\"}"));
    // Superseding a version that is no longer current is a conflict.
    assert!(matches!(store.commit(report("c", key, Some("a"))).await, Err(StoreError::Conflict(_))));
    let usaf = viewer("US-USAF-OOALC", "USA");
    let current = store.list_records(RecordKind::AvailabilityReport, &usaf, &RecordFilter::default(), 0, 10).await?;
    assert_eq!(current.len(), 1);
    let all = RecordFilter { include_superseded: true, ..RecordFilter::default() };
    assert_eq!(store.list_records(RecordKind::AvailabilityReport, &usaf, &all, 0, 10).await?.len(), 2);
    Ok(())
}

async fn each_viewer_sees_only_what_it_may(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    let usaf = "US-USAF-OOALC";
    store.commit(create("private", owned_by(usaf))).await?;
    store
        .commit(create(
            "proposed",
            Audience { owner: usaf.into(), provider: Some("JPN-MHI-KOMAKI".into()), ..Audience::default() },
        ))
        .await?;
    store
        .commit(create(
            "to-party",
            Audience { owner: usaf.into(), parties: vec!["KOR-KAI-SACHEON".into()], ..Audience::default() },
        ))
        .await?;
    store
        .commit(create(
            "to-nation",
            Audience { owner: usaf.into(), nations: vec!["AUS".into()], ..Audience::default() },
        ))
        .await?;
    store.commit(party_commit("SGP-STE-PAYA", "SGP", false, None)?).await?;

    let set = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(ids_seen(&*store, &viewer(usaf, "USA")).await?, set(&["private", "proposed", "to-party", "to-nation"]));
    assert_eq!(ids_seen(&*store, &viewer("JPN-MHI-KOMAKI", "JPN")).await?, set(&["proposed"]));
    assert_eq!(ids_seen(&*store, &viewer("KOR-KAI-SACHEON", "KOR")).await?, set(&["to-party"]));
    assert_eq!(ids_seen(&*store, &viewer("AUS-RAAF-AMBERLEY", "AUS")).await?, set(&["to-nation"]));
    // Releasability names whole entries: a party id is not a nation, a prefix is not a match.
    assert_eq!(ids_seen(&*store, &viewer("KOR-KAI", "KO")).await?, set(&[]));
    assert_eq!(ids_seen(&*store, &coordinator()).await?.len(), 4);

    // Events follow the same rule; a party change is released to everyone.
    let stranger = subjects_seen(&*store, &viewer("PHL-PAF-CLARK", "PHL")).await?;
    assert_eq!(stranger, set(&["parties/SGP-STE-PAYA"]));
    let mhi = subjects_seen(&*store, &viewer("JPN-MHI-KOMAKI", "JPN")).await?;
    assert_eq!(mhi, set(&["repairOrders/proposed", "parties/SGP-STE-PAYA"]));
    assert_eq!(subjects_seen(&*store, &coordinator()).await?.len(), 5);
    Ok(())
}

/// The SQL visibility predicate and `domain::visibility::may_see` are one
/// rule: on random audiences over look-alike party ids (prefixes, suffixes,
/// ids that are another's nation), every viewer lists exactly the records
/// and events `may_see` allows, no more, no fewer.
async fn the_store_shows_exactly_what_may_see_allows_on_random_records(db: Db) -> anyhow::Result<()> {
    use cosx_domain::visibility::may_see;
    use cosx_domain::{Nation, Party, PartyId, PartyKind, Releasability};
    let store = db.open().await?;
    let ids = ["KOR-KAI", "KOR-KAI-SACHEON", "KOR-KAI-SACHEON-2", "KAI", "JPN-MHI-KOMAKI", "JPN", "US-USAF-OOALC"];
    let nations = ["KOR", "JPN", "USA", "AUS"];
    let party = |i: usize, n: usize| -> anyhow::Result<Party> {
        Ok(Party {
            id: PartyId::parse(ids[i]).map_err(anyhow::Error::msg)?,
            kind: PartyKind::Contractor,
            nation: Nation::parse(nations[n]).map_err(anyhow::Error::msg)?,
            department: None,
            display_name: ids[i].into(),
            suspended: false,
        })
    };
    // A small deterministic generator: the case must fail the same way twice.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    let mut records = Vec::new();
    for n in 0..60 {
        let owner = ids[next(ids.len())];
        let provider = (next(3) == 0).then(|| ids[next(ids.len())]);
        let parties: Vec<&str> = (0..next(3)).map(|_| ids[next(ids.len())]).collect();
        let released_nations: Vec<&str> = (0..next(2)).map(|_| nations[next(nations.len())]).collect();
        // Providers asked to quote go in the release column beside the parties.
        let asked: Vec<&str> = (0..next(2)).map(|_| ids[next(ids.len())]).collect();
        let audience = Audience {
            owner: owner.into(),
            provider: provider.map(Into::into),
            parties: parties.iter().chain(&asked).map(|p| (*p).to_owned()).collect(),
            nations: released_nations.iter().map(|p| (*p).to_owned()).collect(),
            everyone: false,
        };
        let releasability = Releasability {
            parties: parties.iter().map(|p| PartyId::parse(p).map_err(anyhow::Error::msg)).collect::<Result<_, _>>()?,
            nations: released_nations
                .iter()
                .map(|p| Nation::parse(p).map_err(anyhow::Error::msg))
                .collect::<Result<_, _>>()?,
            asked_to_quote: asked
                .iter()
                .map(|p| PartyId::parse(p).map_err(anyhow::Error::msg))
                .collect::<Result<_, _>>()?,
        };
        let id = format!("r{n}");
        store.commit(create(&id, audience.clone())).await?;
        records.push((id, owner, provider, releasability, audience));
    }
    for (i, id) in ids.iter().enumerate() {
        for (n, nation) in nations.iter().enumerate() {
            let viewer_party = party(i, n)?;
            let expected: BTreeSet<String> = records
                .iter()
                .filter(|(_, owner, provider, releasability, _)| {
                    let owner = PartyId::parse(owner).unwrap_or_else(|_| unreachable!());
                    let provider = provider.map(|p| PartyId::parse(p).unwrap_or_else(|_| unreachable!()));
                    may_see(&viewer_party, &owner, provider.as_ref(), releasability)
                })
                .map(|(id, ..)| id.clone())
                .collect();
            let who = viewer(id, nation);
            // `get` asks the store one record at a time: the same rule, and a
            // hidden record answers exactly as a missing one.
            for (record, .., audience) in &records {
                let got = store.visible_record(RecordKind::RepairOrder, record, &who).await?;
                assert_eq!(got.is_some(), expected.contains(record), "get of {record} by {id} of {nation}");
                // The in-memory check the feed uses to skip a wake is the same rule.
                assert_eq!(audience.visible_to(&who), expected.contains(record), "audience of {record} for {id}");
            }
            assert_eq!(store.visible_record(RecordKind::RepairOrder, "never-made", &who).await?, None);
            assert_eq!(ids_seen(&*store, &who).await?, expected, "records seen by {id} of {nation}");
            let events: BTreeSet<String> = expected.iter().map(|id| format!("repairOrders/{id}")).collect();
            assert_eq!(subjects_seen(&*store, &who).await?, events, "events seen by {id} of {nation}");
        }
    }
    Ok(())
}

async fn listing_filters_and_pages_in_commit_order(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    let usaf = owned_by("US-USAF-OOALC");
    for i in 0..5 {
        store.commit(create(&format!("o{i}"), usaf.clone())).await?;
    }
    store.commit(update("o3", Audience { provider: Some("JPN-MHI-KOMAKI".into()), ..usaf.clone() }, 1)).await?;
    let c = coordinator();
    let page1 = store.list_records(RecordKind::RepairOrder, &c, &RecordFilter::default(), 0, 2).await?;
    assert_eq!(page1.len(), 2);
    let page2 =
        store.list_records(RecordKind::RepairOrder, &c, &RecordFilter::default(), page1[1].position, 10).await?;
    assert_eq!(page2.len(), 3);
    assert!(page1.iter().chain(&page2).map(|r| r.position).collect::<Vec<_>>().is_sorted());

    let by = |f: RecordFilter| {
        let store = store.clone();
        let c = c.clone();
        async move { anyhow::Ok(store.list_records(RecordKind::RepairOrder, &c, &f, 0, 100).await?.len()) }
    };
    assert_eq!(by(RecordFilter { state: Some("PROPOSED".into()), ..RecordFilter::default() }).await?, 1);
    assert_eq!(by(RecordFilter { state: Some("SUBMITTED".into()), ..RecordFilter::default() }).await?, 4);
    assert_eq!(by(RecordFilter { provider: Some("JPN-MHI-KOMAKI".into()), ..RecordFilter::default() }).await?, 1);
    assert_eq!(by(RecordFilter { owner: Some("US-USAF-OOALC".into()), ..RecordFilter::default() }).await?, 5);
    assert_eq!(by(RecordFilter { owner: Some("JPN-MHI-KOMAKI".into()), ..RecordFilter::default() }).await?, 0);
    assert_eq!(by(RecordFilter { tms: Some("F-35A".into()), ..RecordFilter::default() }).await?, 5);
    assert_eq!(by(RecordFilter { region: Some("EUCOM".into()), ..RecordFilter::default() }).await?, 0);
    Ok(())
}

/// A quote record `{order}/quotes/{provider}`, seen by the order's owner and the provider only.
fn quote(order: &str, provider: &str) -> Commit {
    let id = format!("{order}/quotes/{provider}");
    let audience = Audience { provider: Some(provider.into()), ..owned_by("US-USAF-OOALC") };
    Commit {
        idempotency: None,
        party: None,
        records: vec![RecordWrite {
            kind: RecordKind::Quote,
            id: id.clone(),
            expected_version: None,
            version: 1,
            audience: audience.clone(),
            state: Some("REQUESTED".into()),
            tms: None,
            region: None,
            natural_key: None,
            supersedes: None,
            body: format!("{{\"id\":\"{id}\"}}"),
        }],
        transitions: vec![],
        event: event("QUOTE_REQUESTED", &format!("repairOrders/{id}"), audience),
        more_events: vec![],
        response: "{}".into(),
    }
}

async fn quotes_list_by_their_order_and_show_only_to_owner_provider_and_coordinators(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    // Order ids that share a prefix with each other must not share quotes.
    for (order, provider) in [
        ("US-USAF-OOALC.o1", "JPN-MHI-KOMAKI"),
        ("US-USAF-OOALC.o1", "KOR-KAI-SACHEON"),
        ("US-USAF-OOALC.o10", "JPN-MHI-KOMAKI"),
        ("US-USAF-OOALC.o1-2", "KOR-KAI-SACHEON"),
    ] {
        store.commit(quote(order, provider)).await?;
    }
    let of = |order: &str, viewer: Viewer| {
        let store = store.clone();
        let filter = RecordFilter { id_prefix: Some(format!("{order}/quotes/")), ..RecordFilter::default() };
        async move {
            let rows = store.list_records(RecordKind::Quote, &viewer, &filter, 0, 100).await?;
            anyhow::Ok(rows.into_iter().map(|r| r.body).collect::<Vec<_>>())
        }
    };
    let body = |id: &str| format!("{{\"id\":\"{id}\"}}");
    assert_eq!(
        of("US-USAF-OOALC.o1", coordinator()).await?,
        vec![body("US-USAF-OOALC.o1/quotes/JPN-MHI-KOMAKI"), body("US-USAF-OOALC.o1/quotes/KOR-KAI-SACHEON")]
    );
    assert_eq!(of("US-USAF-OOALC.o1", viewer("US-USAF-OOALC", "USA")).await?.len(), 2);
    assert_eq!(
        of("US-USAF-OOALC.o1", viewer("JPN-MHI-KOMAKI", "JPN")).await?,
        vec![body("US-USAF-OOALC.o1/quotes/JPN-MHI-KOMAKI")]
    );
    // Same nation as a quoting provider: nothing (a quote is released to no nation).
    assert!(of("US-USAF-OOALC.o1", viewer("JPN-KHI-GIFU", "JPN")).await?.is_empty());
    assert_eq!(of("US-USAF-OOALC.o10", coordinator()).await?.len(), 1);
    assert!(of("US-USAF-OOALC.o", coordinator()).await?.is_empty());
    // A quote is not an order, and ids are not patterns.
    assert!(
        store.list_records(RecordKind::RepairOrder, &coordinator(), &RecordFilter::default(), 0, 100).await?.is_empty()
    );
    assert!(of("US-USAF-OOALC.o%", coordinator()).await?.is_empty());
    assert!(of("US-USAF-OOALC.o_", coordinator()).await?.is_empty());
    Ok(())
}

async fn the_registry_keeps_etags_and_refuses_stale_ones(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    store.commit(party_commit("SGP-STE-PAYA", "SGP", false, None)?).await?;
    assert!(matches!(
        store.commit(party_commit("SGP-STE-PAYA", "SGP", false, None)?).await,
        Err(StoreError::Conflict(_))
    ));
    store.commit(party_commit("SGP-STE-PAYA", "SGP", true, Some(1))?).await?;
    assert!(matches!(
        store.commit(party_commit("SGP-STE-PAYA", "SGP", true, Some(1))?).await,
        Err(StoreError::Conflict(_))
    ));
    let parties = store.parties().await?;
    assert_eq!(parties.len(), 1);
    assert_eq!(parties[0].0.id.as_str(), "SGP-STE-PAYA");
    assert!(parties[0].0.suspended);
    assert_eq!(parties[0].1, 2);
    assert_eq!(store.head().await?, 2);
    Ok(())
}

async fn the_log_is_a_hash_chain_that_verifies(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    for i in 0..7 {
        store.commit(create(&format!("o{i}"), owned_by("US-USAF-OOALC"))).await?;
    }
    assert_eq!(audit::verify_store(&*store).await?.map_err(|b| anyhow::anyhow!("{b}"))?, 7);
    let first = store.audit_entries(0, 3).await?;
    let rest = store.audit_entries(3, 100).await?;
    let all: Vec<i64> = first.iter().chain(&rest).map(|e| e.sequence).collect();
    assert_eq!(all, (1..=7).collect::<Vec<_>>());
    for pair in first.iter().chain(&rest).collect::<Vec<_>>().windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    Ok(())
}

/// A commit's further events (`Commit::more_events`) take the sequences
/// right after its own event, in one hash chain, each seen only by its own
/// audience; whether the store decides a group in memory or (next to a
/// commit only the database refuses) commit by commit.
async fn a_commits_further_events_follow_its_own_each_seen_by_its_own_audience(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    let usaf = owned_by("US-USAF-OOALC");
    let (mhi, kai) = ("JPN-MHI-KOMAKI", "KOR-KAI-SACHEON");
    let to = |p: &str| Audience { owner: "US-USAF-OOALC".into(), provider: Some(p.into()), ..Audience::default() };
    let with_more = |id: &str| {
        let mut c = create(id, usaf.clone());
        c.more_events =
            [mhi, kai].iter().map(|p| event("QUOTE_CLOSED", &format!("repairOrders/{id}/quotes/{p}"), to(p))).collect();
        c
    };
    assert_eq!(store.commit(with_more("o1")).await?, Committed::New { sequence: 1 });
    assert_eq!(store.commit(create("o2", usaf.clone())).await?, Committed::New { sequence: 4 });
    let mut colliding = create("o3", usaf.clone());
    colliding.transitions[0].order_id = "o1".into();
    let (stored, refused) = tokio::join!(store.commit(with_more("o4")), store.commit(colliding));
    assert!(matches!(refused, Err(StoreError::Database(_))), "{refused:?}");
    let Committed::New { sequence } = stored? else { anyhow::bail!("o4 was not stored") };
    let log: Vec<(i64, String)> =
        store.events(&coordinator(), 0, 100).await?.into_iter().map(|e| (e.entry.sequence, e.subject)).collect();
    let o4: Vec<(i64, String)> = log.iter().filter(|(_, s)| s.contains("/o4")).cloned().collect();
    assert_eq!(
        o4,
        vec![
            (sequence, "repairOrders/o4".to_owned()),
            (sequence + 1, format!("repairOrders/o4/quotes/{mhi}")),
            (sequence + 2, format!("repairOrders/o4/quotes/{kai}")),
        ]
    );
    assert_eq!(audit::verify_store(&*store).await?.map_err(|b| anyhow::anyhow!("{b}"))?, 7);
    assert_eq!(store.head().await?, 7);
    let set = |ids: &[String]| ids.iter().cloned().collect::<BTreeSet<_>>();
    let quotes_of = |p: &str| set(&[format!("repairOrders/o1/quotes/{p}"), format!("repairOrders/o4/quotes/{p}")]);
    assert_eq!(subjects_seen(&*store, &viewer(mhi, "JPN")).await?, quotes_of(mhi));
    assert_eq!(subjects_seen(&*store, &viewer(kai, "KOR")).await?, quotes_of(kai));
    assert_eq!(subjects_seen(&*store, &viewer("US-USAF-OOALC", "USA")).await?.len(), 7);
    Ok(())
}

async fn the_log_refuses_update_and_delete_through_sql(db: Db) -> anyhow::Result<()> {
    let store = db.open().await?;
    store.commit(create("o1", owned_by("US-USAF-OOALC"))).await?;
    let url = &db.database.url;
    match db.database.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await?;
            assert!(sqlx::query("UPDATE events SET actor = 'X' WHERE sequence = 1").execute(&mut conn).await.is_err());
            assert!(sqlx::query("DELETE FROM events").execute(&mut conn).await.is_err());
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await?;
            assert!(sqlx::query("UPDATE events SET actor = 'X' WHERE sequence = 1").execute(&mut conn).await.is_err());
            assert!(sqlx::query("DELETE FROM events").execute(&mut conn).await.is_err());
            assert!(sqlx::query("TRUNCATE events CASCADE").execute(&mut conn).await.is_err());
        }
    }
    assert_eq!(audit::verify_store(&*store).await?.map_err(|b| anyhow::anyhow!("{b}"))?, 1);
    Ok(())
}

/// `n` creates spread over two instances at once; the sequences they got.
async fn commit_concurrently(a: &Arc<dyn Store>, b: &Arc<dyn Store>, n: usize) -> anyhow::Result<Vec<i64>> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { store.commit(create(&format!("c{i}"), owned_by("US-USAF-OOALC"))).await })
        })
        .collect();
    let mut sequences = Vec::new();
    for t in tasks {
        sequences.push(sequence(t.await??)?);
    }
    Ok(sequences)
}

async fn concurrent_commits_from_two_instances_get_gap_free_sequences(db: Db) -> anyhow::Result<()> {
    let (a, b) = (db.open().await?, db.open().await?);
    let mut sequences = commit_concurrently(&a, &b, 40).await?;
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=40).collect::<Vec<_>>());
    assert_eq!(audit::verify_store(&*b).await?.map_err(|e| anyhow::anyhow!("{e}"))?, 40);
    Ok(())
}

async fn a_reader_never_skips_an_entry_committed_late_by_another_instance(db: Db) -> anyhow::Result<()> {
    // Readers pull "after my cursor". If sequence n+1 could become visible
    // before n, a reader would move its cursor past n and never see it.
    let (a, b, reader) = (db.open().await?, db.open().await?, db.open().await?);
    const N: usize = 60;
    let writers = tokio::spawn(async move { commit_concurrently(&a, &b, N).await });
    let everyone = coordinator();
    let mut cursor = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while cursor < N as i64 {
        assert!(tokio::time::Instant::now() < deadline, "reader stuck at {cursor}");
        for e in reader.events(&everyone, cursor, 7).await? {
            assert_eq!(e.entry.sequence, cursor + 1, "a reader at {cursor} was handed {}", e.entry.sequence);
            cursor = e.entry.sequence;
        }
        tokio::task::yield_now().await;
    }
    writers.await??;
    assert_eq!(reader.head().await?, N as i64);
    Ok(())
}

async fn the_same_request_id_at_once_on_two_instances_stores_one_record(db: Db) -> anyhow::Result<()> {
    let (a, b) = (db.open().await?, db.open().await?);
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let commit = keyed(create(&format!("d{i}"), owned_by("US-USAF-OOALC")), "US-USAF-OOALC", "same", "h");
            tokio::spawn(async move { store.commit(commit).await })
        })
        .collect();
    let mut new = 0;
    let mut responses = BTreeSet::new();
    for t in tasks {
        match t.await?? {
            Committed::New { .. } => new += 1,
            Committed::Replayed { response } => {
                responses.insert(response);
            }
        }
    }
    assert_eq!(new, 1);
    assert_eq!(responses.len(), 1, "every repeat replays the one stored response: {responses:?}");
    assert_eq!(a.head().await?, 1);
    assert_eq!(ids_seen(&*a, &coordinator()).await?.len(), 1);
    Ok(())
}

async fn racing_updates_of_one_version_on_two_instances_let_exactly_one_win(db: Db) -> anyhow::Result<()> {
    let (a, b) = (db.open().await?, db.open().await?);
    let usaf = owned_by("US-USAF-OOALC");
    a.commit(create("o1", usaf.clone())).await?;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let commit = update("o1", usaf.clone(), 1);
            tokio::spawn(async move { store.commit(commit).await })
        })
        .collect();
    let (mut won, mut conflicts) = (0, 0);
    for t in tasks {
        match t.await? {
            Ok(Committed::New { .. }) => won += 1,
            Err(StoreError::Conflict(_)) => conflicts += 1,
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }
    assert_eq!((won, conflicts), (1, 9));
    assert_eq!(b.head().await?, 2);
    assert_eq!(b.transitions("o1").await?.len(), 2);
    Ok(())
}

async fn followers_hear_commits_made_by_other_instances(db: Db) -> anyhow::Result<()> {
    let (a, b) = (db.open().await?, db.open().await?);
    let Some(mut notices) = a.follow().await? else {
        // A store only one process writes has nothing to follow.
        assert_eq!(db.database.backend, Backend::Sqlite, "a shared database must be followable");
        return Ok(());
    };
    let next = async |notices: &mut futures::stream::BoxStream<'static, LogNotice>| {
        tokio::time::timeout(Duration::from_secs(5), notices.next())
            .await
            .map_err(|_| anyhow::anyhow!("no notice within 5 s"))?
            .ok_or_else(|| anyhow::anyhow!("notices ended"))
    };
    assert_eq!(next(&mut notices).await?, LogNotice::Resync, "a follower starts by re-reading");
    b.commit(create("o1", owned_by("US-USAF-OOALC"))).await?;
    assert_eq!(next(&mut notices).await?, LogNotice::Appended { sequence: 1, party_changed: false });
    b.commit(party_commit("SGP-STE-PAYA", "SGP", false, None)?).await?;
    assert_eq!(next(&mut notices).await?, LogNotice::Appended { sequence: 2, party_changed: true });
    // A refused or replayed commit announces nothing.
    assert!(b.commit(create("o1", owned_by("US-USAF-OOALC"))).await.is_err());
    a.commit(create("o2", owned_by("US-USAF-OOALC"))).await?;
    assert_eq!(next(&mut notices).await?, LogNotice::Appended { sequence: 3, party_changed: false });
    Ok(())
}

async fn reopening_keeps_everything_and_migrates_nothing_twice(db: Db) -> anyhow::Result<()> {
    {
        let store = db.open().await?;
        store.commit(create("o1", owned_by("US-USAF-OOALC"))).await?;
        store.commit(party_commit("SGP-STE-PAYA", "SGP", false, None)?).await?;
    }
    // Two instances opening at once (replicas starting together) both succeed.
    let (a, b) = tokio::try_join!(db.open(), db.open())?;
    assert_eq!(a.head().await?, 2);
    assert_eq!(b.parties().await?.len(), 1);
    assert_eq!(sequence(b.commit(create("o2", owned_by("US-USAF-OOALC"))).await?)?, 3);
    assert_eq!(audit::verify_store(&*a).await?.map_err(|e| anyhow::anyhow!("{e}"))?, 3);
    Ok(())
}

/// What one of many concurrent commits was meant to test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A fresh create: must be stored.
    Fresh,
    /// One of two updates of the same version: exactly one wins.
    Racing,
    /// An update of a version long gone.
    Stale,
    /// A create of an id that exists.
    Existing,
    /// One of two commits with one request id and different payloads.
    Mismatched,
    /// One of two commits with one request id and the same payload.
    Repeated,
    /// A create whose history row collides with an existing one (a unique
    /// violation after the record was already written in its savepoint).
    Colliding,
    /// One of two new report versions superseding the same current one.
    Superseding,
}

fn report(id: &str, natural_key: &str, supersedes: Option<&str>) -> Commit {
    Commit {
        idempotency: None,
        party: None,
        records: vec![RecordWrite {
            kind: RecordKind::AvailabilityReport,
            id: id.into(),
            expected_version: None,
            version: 1,
            audience: owned_by("US-USAF-OOALC"),
            state: None,
            tms: Some("F-35A".into()),
            region: Some("INDOPACOM".into()),
            natural_key: Some(natural_key.into()),
            supersedes: supersedes.map(Into::into),
            body: format!("{{\"id\":\"{id}\"}}"),
        }],
        transitions: vec![],
        event: event("AVAILABILITY_REPORT_SUBMITTED", &format!("availabilityReports/{id}"), owned_by("US-USAF-OOALC")),
        more_events: vec![],
        response: format!("{{\"id\":\"{id}\"}}"),
    }
}

async fn many_commits_at_once_each_get_their_own_outcome_and_the_log_stays_whole(db: Db) -> anyhow::Result<()> {
    many_commits_at_once(db, true).await
}

async fn many_commits_at_once_without_database_errors_get_the_outcomes_of_one_at_a_time(db: Db) -> anyhow::Result<()> {
    // Without a commit that only the database can refuse (a unique
    // violation in the history), a store may decide a whole group in memory;
    // the outcomes must still be those of one commit after the other.
    many_commits_at_once(db, false).await
}

async fn many_commits_at_once(db: Db, collisions: bool) -> anyhow::Result<()> {
    // Enough commits at once that the store groups them into transactions;
    // every refusal must be its own and leave nothing behind, every success
    // must be stored, and the log must stay gap-free and chained.
    let store = db.open().await?;
    let usaf = owned_by("US-USAF-OOALC");
    let caller = "US-USAF-OOALC";
    const BASE: i64 = 20;
    for i in 0..BASE {
        store.commit(create(&format!("base-{i}"), usaf.clone())).await?;
    }
    for i in 0..10 {
        store.commit(report(&format!("rep-{i}"), &format!("K{i}"), None)).await?;
    }
    let before = store.head().await?;
    let mut commits: Vec<(String, Role, Commit)> = Vec::new();
    let mut add = |label: String, role: Role, mut commit: Commit| {
        // A subject per commit, to find exactly its event in the log.
        commit.event.subject = format!("commits/{label}");
        commits.push((label, role, commit));
    };
    for i in 0..100 {
        add(
            format!("fresh-{i}"),
            Role::Fresh,
            keyed(create(&format!("n-{i}"), usaf.clone()), caller, &format!("new-{i}"), "h"),
        );
    }
    for i in 0..BASE {
        for side in ["a", "b"] {
            let mut c = update(&format!("base-{i}"), usaf.clone(), 1);
            c.records[0].body = format!("{{\"id\":\"base-{i}\",\"version\":2,\"by\":\"{side}\"}}");
            add(format!("race-{i}-{side}"), Role::Racing, c);
        }
    }
    for i in 0..10 {
        add(format!("stale-{i}"), Role::Stale, update(&format!("base-{i}"), usaf.clone(), 7));
        add(format!("existing-{i}"), Role::Existing, create(&format!("base-{}", 10 + i), usaf.clone()));
        for side in ["a", "b"] {
            let id = format!("m-{i}-{side}");
            add(
                format!("mismatch-{i}-{side}"),
                Role::Mismatched,
                keyed(create(&id, usaf.clone()), caller, &format!("mm-{i}"), &format!("h{side}")),
            );
            let id = format!("d-{i}-{side}");
            add(
                format!("repeat-{i}-{side}"),
                Role::Repeated,
                keyed(create(&id, usaf.clone()), caller, &format!("dd-{i}"), "hd"),
            );
        }
        if collisions {
            let mut c = create(&format!("u-{i}"), usaf.clone());
            c.transitions[0].order_id = format!("base-{i}");
            add(format!("collide-{i}"), Role::Colliding, c);
        }
        for side in ["a", "b"] {
            let (id, old) = (format!("rep-{i}-{side}"), format!("rep-{i}"));
            add(format!("supersede-{i}-{side}"), Role::Superseding, report(&id, &format!("K{i}"), Some(&old)));
        }
        add(format!("second-current-{i}"), Role::Existing, report(&format!("dup-{i}"), &format!("K{i}"), None));
    }
    assert_eq!(commits.len(), if collisions { 240 } else { 230 });

    let tasks: Vec<_> = commits
        .iter()
        .map(|(_, _, commit)| {
            let (store, commit) = (store.clone(), commit.clone());
            tokio::spawn(async move { store.commit(commit).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await?);
    }

    let mut stored = BTreeSet::new();
    let mut sequences = Vec::new();
    let mut winners: std::collections::BTreeMap<String, String> = Default::default();
    for ((label, role, commit), outcome) in commits.iter().zip(&outcomes) {
        let (kind, id) = (commit.records[0].kind, commit.records[0].id.clone());
        let conflict_on = commit.records[0].supersedes.clone().unwrap_or_else(|| id.clone());
        match (role, outcome) {
            (_, Ok(Committed::New { sequence })) => {
                assert!(!matches!(role, Role::Stale | Role::Existing | Role::Colliding), "{label} was stored");
                sequences.push(*sequence);
                stored.insert(format!("commits/{label}"));
                let body = store.record(kind, &id).await?;
                assert_eq!(body.as_deref(), Some(commit.records[0].body.as_str()), "{label} is readable as written");
                if matches!(role, Role::Racing | Role::Mismatched | Role::Repeated | Role::Superseding) {
                    let pair = label.rsplit_once('-').map_or(label.as_str(), |(p, _)| p).to_owned();
                    assert!(winners.insert(pair, commit.response.clone()).is_none(), "{label}: two winners");
                }
            }
            (Role::Racing | Role::Stale | Role::Existing | Role::Superseding, Err(StoreError::Conflict(what))) => {
                assert_eq!(what, &conflict_on, "{label}");
                // (The orders' ids exist: they are the records raced for.)
                if kind == RecordKind::AvailabilityReport {
                    assert_eq!(store.record(kind, &id).await?, None, "{label} left its record");
                }
            }
            (Role::Mismatched, Err(StoreError::IdempotencyMismatch(rid))) => {
                assert!(rid.starts_with("mm-"), "{label}: {rid}");
                assert_eq!(store.record(RecordKind::RepairOrder, &id).await?, None, "{label} left its record");
            }
            (Role::Repeated, Ok(Committed::Replayed { .. })) => {
                assert_eq!(store.record(RecordKind::RepairOrder, &id).await?, None, "{label} left its record");
            }
            (Role::Colliding, Err(StoreError::Database(_))) => {
                assert_eq!(store.record(RecordKind::RepairOrder, &id).await?, None, "{label} left its record");
            }
            (_, other) => panic!("{label} ({role:?}): unexpected {other:?}"),
        }
    }
    // Each replay answered with the response of the commit it repeated.
    for ((label, role, _), outcome) in commits.iter().zip(&outcomes) {
        if let (Role::Repeated, Ok(Committed::Replayed { response })) = (role, outcome) {
            let pair = label.rsplit_once('-').map_or(label.as_str(), |(p, _)| p);
            assert_eq!(Some(response), winners.get(pair), "{label}");
        }
    }
    let count = |role: Role| {
        commits
            .iter()
            .zip(&outcomes)
            .filter(|((_, r, _), o)| *r == role && matches!(o, Ok(Committed::New { .. })))
            .count()
    };
    assert_eq!(
        [Role::Fresh, Role::Racing, Role::Mismatched, Role::Repeated, Role::Superseding].map(count),
        [100, 20, 10, 10, 10],
        "stored per role: fresh, racing, mismatched, repeated, superseding"
    );
    for i in 0..10 {
        // The winner is the current version; the one it superseded is not.
        let winner =
            winners.get(&format!("supersede-{i}")).ok_or_else(|| anyhow::anyhow!("supersede-{i}: no winner"))?;
        assert_eq!(store.current_report(&format!("K{i}")).await?.as_ref(), Some(winner), "K{i}");
    }
    for i in 0..10 {
        let (hash, _) = store
            .idempotent_response(caller, &format!("mm-{i}"))
            .await?
            .ok_or_else(|| anyhow::anyhow!("mm-{i} has no key"))?;
        let winner =
            commits.iter().zip(&outcomes).find(|((l, _, _), o)| l.starts_with(&format!("mismatch-{i}-")) && o.is_ok());
        let winner_hash = winner.and_then(|((_, _, c), _)| c.idempotency.as_ref()).map(|k| k.request_hash.clone());
        assert_eq!(Some(hash), winner_hash, "mm-{i} keeps the winner's payload hash");
    }
    for i in 0..BASE {
        // Created, then moved once by the winning racer; nothing else.
        assert_eq!(store.transitions(&format!("base-{i}")).await?.len(), 2, "base-{i}");
    }

    // The log: 1..n without gaps, each stored commit's event exactly once, no
    // refused commit's event, and the chain verifies.
    sequences.sort_unstable();
    let n = before + sequences.len() as i64;
    assert_eq!(sequences, (before + 1..=n).collect::<Vec<_>>());
    assert_eq!(store.head().await?, n);
    let events = store.events(&coordinator(), before, 1000).await?;
    let subjects: Vec<String> = events.iter().map(|e| e.subject.clone()).collect();
    assert_eq!(subjects.len(), stored.len());
    assert_eq!(subjects.into_iter().collect::<BTreeSet<_>>(), stored);
    assert_eq!(audit::verify_store(&*store).await?.map_err(|e| anyhow::anyhow!("{e}"))?, n as u64);
    Ok(())
}
