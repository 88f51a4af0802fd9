//! The feed: replay then follow; a subscriber that resumes from its last
//! sequence misses nothing and sees nothing twice.

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, party, repair_order};

async fn create(ex: &TestExchange, n: usize, tag: &str) -> anyhow::Result<Vec<String>> {
    let mut usaf = ex.exchange(party::USAF).await?;
    let mut names = Vec::new();
    for i in 0..n {
        let o = usaf
            .create_repair_order(pb::CreateRepairOrderRequest {
                repair_order: Some(repair_order(party::USAF)),
                request_id: format!("{tag}-{i}"),
                ..Default::default()
            })
            .await?
            .into_inner();
        names.push(o.name);
    }
    Ok(names)
}

#[tokio::test]
async fn a_subscriber_killed_mid_stream_resumes_from_its_last_sequence_exactly_once() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let before = create(&ex, 5, "a").await?;

    // First subscription: read some events, then drop the stream mid-way.
    let mut seen: Vec<(i64, String)> = Vec::new();
    {
        let mut stream = ex.feed(party::USAF).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
        while seen.len() < 3 {
            let e = stream.message().await?.ok_or_else(|| anyhow::anyhow!("ended"))?;
            if let Some(pb::event::Subject::RepairOrder(o)) = e.subject {
                seen.push((e.sequence, o.name));
            }
        }
    }
    // More writes happen while it is away.
    let during = create(&ex, 4, "b").await?;
    let last = seen.last().map_or(0, |(s, _)| *s);
    let mut stream = ex
        .feed(party::USAF)
        .await?
        .subscribe(pb::SubscribeRequest { after_sequence: last, kinds: vec![], ..Default::default() })
        .await?
        .into_inner();
    // And more while it follows live.
    let live = tokio::spawn({
        let ex_channel = ex.exchange(party::USAF).await?;
        async move {
            let mut c = ex_channel;
            let mut names = Vec::new();
            for i in 0..3 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let o = c
                    .create_repair_order(pb::CreateRepairOrderRequest {
                        repair_order: Some(repair_order(party::USAF)),
                        request_id: format!("c-{i}"),
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                names.push(o.name);
            }
            Ok::<_, anyhow::Error>(names)
        }
    });
    let expected_total = before.len() + during.len() + 3;
    while seen.len() < expected_total {
        let e = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await??
            .ok_or_else(|| anyhow::anyhow!("ended"))?;
        if let Some(pb::event::Subject::RepairOrder(o)) = e.subject {
            seen.push((e.sequence, o.name));
        }
    }
    let after_live = live.await??;
    let names: Vec<String> = seen.iter().map(|(_, n)| n.clone()).collect();
    let expected: Vec<String> = before.into_iter().chain(during).chain(after_live).collect();
    assert_eq!(names, expected, "every event exactly once, in order");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    // Nothing more arrives.
    assert!(tokio::time::timeout(Duration::from_millis(300), stream.message()).await.is_err());
    Ok(())
}

#[tokio::test]
async fn the_feed_filters_by_kind_and_numbers_events_without_gaps() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    create(&ex, 2, "k").await?;
    let mut all = ex.feed(party::COORDINATOR).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut sequences = Vec::new();
    for _ in 0..(cosx_tests::PARTIES.len() + 2) {
        sequences.push(all.message().await?.ok_or_else(|| anyhow::anyhow!("ended"))?.sequence);
    }
    assert_eq!(sequences, (1..=sequences.len() as i64).collect::<Vec<_>>());
    let mut only_orders = ex
        .feed(party::COORDINATOR)
        .await?
        .subscribe(pb::SubscribeRequest {
            after_sequence: 0,
            kinds: vec![pb::EventKind::RepairOrderCreated as i32],
            ..Default::default()
        })
        .await?
        .into_inner();
    for _ in 0..2 {
        let e = only_orders.message().await?.ok_or_else(|| anyhow::anyhow!("ended"))?;
        assert_eq!(e.kind, pb::EventKind::RepairOrderCreated as i32);
    }
    Ok(())
}

#[tokio::test]
async fn a_suspended_party_loses_its_open_feed() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut stream = ex.feed(party::KAI).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    ex.registry(party::COORDINATOR)
        .await?
        .suspend_party(pb::SuspendPartyRequest { name: format!("parties/{}", party::KAI), ..Default::default() })
        .await?;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(status) => return Some(status.code()),
            }
        }
    })
    .await?;
    assert_eq!(ended, Some(tonic::Code::PermissionDenied));
    Ok(())
}

/// The events up to the first checkpoint as of `at` or later: the feed's
/// word that every commit acknowledged before `at` that the subscriber may
/// see has been sent (the first checkpoint says it of the replay). No guess from a quiet gap, which a loaded machine
/// can stretch.
async fn until_caught_up(
    stream: &mut tonic::Streaming<pb::Event>,
    at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vec<pb::Event>> {
    let at = (at.timestamp(), i32::try_from(at.timestamp_subsec_nanos())?);
    let mut events = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), stream.message()).await??;
        let event = message.ok_or_else(|| anyhow::anyhow!("the feed ended"))?;
        if event.kind != pb::EventKind::Checkpoint as i32 {
            events.push(event);
        } else if event.time.as_ref().is_some_and(|t| (t.seconds, t.nanos) >= at) {
            return Ok(events);
        }
    }
}

/// Live subscribers are served from the events the coordinator holds in
/// memory: the visibility rule applies there exactly as in the store. A
/// contractor following live sees the one order proposed to it and nothing
/// of the others' orders, and a later replay gives the same events.
#[tokio::test]
async fn a_live_subscriber_sees_only_what_it_may_and_the_same_as_a_replay() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let following = pb::SubscribeRequest { checkpoints: true, ..Default::default() };
    let mut live = ex.feed(party::KAI).await?.subscribe(following.clone()).await?.into_inner();
    let before = until_caught_up(&mut live, chrono::Utc::now()).await?;
    let names = create(&ex, 4, "live").await?;
    ex.exchange(party::COORDINATOR)
        .await?
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: names[2].clone(),
            version: 1,
            action: pb::RepairOrderAction::Propose as i32,
            provider: party::KAI.into(),
            ..Default::default()
        })
        .await?;
    let followed = until_caught_up(&mut live, chrono::Utc::now()).await?;
    let orders: Vec<&str> = followed
        .iter()
        .filter_map(|e| match &e.subject {
            Some(pb::event::Subject::RepairOrder(o)) => Some(o.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(orders, [names[2].as_str()], "only the order proposed to it, once");

    let mut replay = ex.feed(party::KAI).await?.subscribe(following).await?.into_inner();
    let replayed = until_caught_up(&mut replay, chrono::Utc::now()).await?;
    let sequences = |events: &[pb::Event]| events.iter().map(|e| e.sequence).collect::<Vec<_>>();
    let mut lived = sequences(&before);
    lived.extend(sequences(&followed));
    assert_eq!(sequences(&replayed), lived, "a replay gives what was followed live");
    Ok(())
}

/// A reconnect storm: ninety subscribers of three parties open at once from
/// the start of the log. Those that must read the store take turns there;
/// none is refused or cut off, and each receives exactly what a lone replay
/// of its party gives, in order.
#[tokio::test]
async fn ninety_subscribers_reconnecting_at_once_each_get_exactly_their_partys_replay() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let names = create(&ex, 30, "storm").await?;
    ex.exchange(party::COORDINATOR)
        .await?
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: names[3].clone(),
            version: 1,
            action: pb::RepairOrderAction::Propose as i32,
            provider: party::KAI.into(),
            ..Default::default()
        })
        .await?;
    let parties = [party::USAF, party::KAI, party::COORDINATOR];
    let mut storm = Vec::new();
    for who in parties {
        let channel = ex.channel(who).await?;
        for _ in 0..30 {
            let mut feed = pb::feed_client::FeedClient::new(channel.clone());
            storm.push(tokio::spawn(async move {
                let asked = pb::SubscribeRequest { checkpoints: true, ..Default::default() };
                let mut stream = feed.subscribe(asked).await?.into_inner();
                anyhow::Ok((who, until_caught_up(&mut stream, chrono::DateTime::<chrono::Utc>::MIN_UTC).await?))
            }));
        }
    }
    let mut got = Vec::new();
    for task in storm {
        got.push(task.await??);
    }
    let sequences = |events: &[pb::Event]| events.iter().map(|e| e.sequence).collect::<Vec<_>>();
    for who in parties {
        let asked = pb::SubscribeRequest { checkpoints: true, ..Default::default() };
        let mut replay = ex.feed(who).await?.subscribe(asked).await?.into_inner();
        let expected = sequences(&until_caught_up(&mut replay, chrono::DateTime::<chrono::Utc>::MIN_UTC).await?);
        assert!(!expected.is_empty(), "{who} sees something");
        for (_, events) in got.iter().filter(|(w, _)| *w == who) {
            assert_eq!(sequences(events), expected, "{who}: a subscriber of the storm got its party's replay");
        }
    }
    let kai_orders = |events: &[pb::Event]| {
        events.iter().any(|e| matches!(&e.subject, Some(pb::event::Subject::RepairOrder(o)) if o.name != names[3]))
    };
    assert!(
        got.iter().filter(|(w, _)| *w == party::KAI).all(|(_, e)| !kai_orders(e)),
        "KAI sees only the order proposed to it"
    );
    Ok(())
}
