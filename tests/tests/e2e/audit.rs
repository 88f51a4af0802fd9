//! The audit log: an untouched log verifies; changing any byte of any stored
//! entry makes verification fail and name the entry; an export verifies offline.

use cosx_coordinator::audit;
use cosx_coordinator::store;
use cosx_proto::v1 as pb;
use cosx_tests::database::Backend;
use cosx_tests::{TestExchange, availability_report, party, repair_order};
use sqlx::Connection;

/// Raw SQL on an exchange's database, as whoever holds its file or its
/// credentials could run it, on either backend.
enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Raw {
    async fn open(ex: &TestExchange) -> anyhow::Result<Self> {
        Ok(match ex.backend() {
            Backend::Sqlite => Raw::Sqlite(sqlx::SqliteConnection::connect(&ex.database.url).await?),
            Backend::Postgres => Raw::Postgres(sqlx::PgConnection::connect(&ex.database.url).await?),
        })
    }

    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Raw::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            Raw::Postgres(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
        }
    }

    async fn text(&mut self, sql: &str) -> anyhow::Result<String> {
        Ok(match self {
            Raw::Sqlite(c) => sqlx::query_scalar(sql).fetch_one(c).await?,
            Raw::Postgres(c) => sqlx::query_scalar(sql).fetch_one(c).await?,
        })
    }

    async fn drop_update_trigger(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Raw::Sqlite(_) => self.execute("DROP TRIGGER events_append_only_update").await,
            Raw::Postgres(_) => self.execute("DROP TRIGGER events_append_only_update ON events").await,
        }
    }
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[tokio::test]
async fn changing_any_byte_of_any_entry_is_caught_and_named() -> anyhow::Result<()> {
    let mut ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let o = usaf
        .create_repair_order(pb::CreateRepairOrderRequest {
            repair_order: Some(repair_order(party::USAF)),
            request_id: String::new(),
            ..Default::default()
        })
        .await?
        .into_inner();
    ex.propose(&o, party::MHI).await?;
    usaf.submit_availability_report(pb::SubmitAvailabilityReportRequest {
        availability_report: Some(availability_report(party::USAF)),
        request_id: String::new(),
        ..Default::default()
    })
    .await?;
    ex.stop().await?;

    let url = ex.database.url.clone();
    let verified = audit::verify_store(store::connect(&url).await?.as_ref()).await?;
    let entries = verified.map_err(|b| anyhow::anyhow!("untouched log broken: {b}"))?;
    assert_eq!(entries, cosx_tests::PARTIES.len() as u64 + 3);

    // An export verifies offline, and a tampered export does not.
    let mut exported = Vec::new();
    audit::export(store::connect(&url).await?.as_ref(), &mut exported).await?;
    assert_eq!(audit::verify_export(exported.as_slice())?.ok(), Some(entries));
    let tampered = String::from_utf8(exported)?.replacen("US-USAF-OOALC", "US-USAF-OOALD", 1);
    assert!(audit::verify_export(tampered.as_bytes())?.is_err());

    // Whoever gets at the database can drop the append-only triggers, but not hide the change.
    let mut conn = Raw::open(&ex).await?;
    conn.drop_update_trigger().await?;
    let store = store::connect(&url).await?;
    for sequence in 1..=entries as i64 {
        for column in ["time", "kind", "actor", "actor_cert", "content", "prev_hash", "hash"] {
            let original = conn.text(&format!("SELECT {column} FROM events WHERE sequence = {sequence}")).await?;
            // Flip one byte in the middle.
            let mut bytes = original.clone().into_bytes();
            let mid = bytes.len() / 2;
            bytes[mid] = if bytes[mid] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(bytes)?;
            let update =
                |value: &str| format!("UPDATE events SET {column} = {} WHERE sequence = {sequence}", quoted(value));
            conn.execute(&update(&changed)).await?;
            let verdict = audit::verify_store(store.as_ref()).await?;
            let broken = verdict
                .err()
                .ok_or_else(|| anyhow::anyhow!("change to {column} of entry {sequence} went unnoticed"))?;
            assert_eq!(broken.sequence, sequence, "{column}");
            conn.execute(&update(&original)).await?;
        }
    }
    assert!(audit::verify_store(store.as_ref()).await?.is_ok());
    Ok(())
}

#[tokio::test]
async fn the_log_cannot_be_edited_through_sql_while_its_triggers_stand() -> anyhow::Result<()> {
    let mut ex = TestExchange::start().await?;
    ex.stop().await?;
    let mut conn = Raw::open(&ex).await?;
    assert!(conn.execute("UPDATE events SET actor = 'X' WHERE sequence = 1").await.is_err());
    assert!(conn.execute("DELETE FROM events").await.is_err());
    Ok(())
}
