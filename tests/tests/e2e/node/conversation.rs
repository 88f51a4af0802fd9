//! Quotes, comments, requests for update and disruption notices through a
//! party node (see the parent module).

use super::*;
// ---------------------------------------------------------------------------
// The rest of the repair conversation through a node: quotes, comments and
// disruption notices queued while the link is cut and forwarded once;
// adversarial ones refused at the node, with nothing queued; and the order a
// provider is asked to quote on shown by its own node while the quote is open.

type Quotes = pb::quotes_client::QuotesClient<Channel>;
type Comments = pb::comments_client::CommentsClient<Channel>;
type Disruptions = pb::disruptions_client::DisruptionsClient<Channel>;
type Updates = pb::update_requests_client::UpdateRequestsClient<Channel>;

use crate::quotes::fields;

fn final_terms(amount_minor: i64, valid_until: chrono::NaiveDate) -> pb::QuoteTerms {
    pb::QuoteTerms {
        kind: pb::QuoteKind::Final as i32,
        price: Some(usd(amount_minor)),
        turnaround_days: 30,
        process: pb::RepairProcess::Overhaul as i32,
        valid_until: valid_until.to_string(),
        conditions: String::new(),
    }
}

fn in_days(days: i64) -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(days)
}

fn comment(parent: &str, text: &str, request_id: &str) -> pb::AddCommentRequest {
    pb::AddCommentRequest {
        parent: parent.into(),
        content: Some(pb::CommentContent {
            comment_type: pb::CommentType::Information as i32,
            reference_dates: vec![],
            text: text.into(),
        }),
        request_id: request_id.into(),
        demand_cell: None,
    }
}

fn notice(site: &str, request_id: &str) -> pb::DeclareDisruptionRequest {
    pb::DeclareDisruptionRequest {
        disruption: Some(pb::Disruption {
            site: site.into(),
            cause: pb::DisruptionCause::NaturalDisaster as i32,
            capacity_reduction_percent: 50,
            start_date: in_days(1).to_string(),
            expected_end_date: in_days(20).to_string(),
            text: "Typhoon: hangar 3 roof lost".into(),
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}

/// The coordinator's events of `kind`, by subject name, read until quiet.
async fn events_of(ex: &TestExchange, kind: pb::EventKind) -> anyhow::Result<Vec<String>> {
    use pb::event::Subject;
    let mut stream = ex.feed(party::COORDINATOR).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut out = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(e) = next? else { break };
        if e.kind != kind as i32 {
            continue;
        }
        out.push(match &e.subject {
            Some(Subject::Quote(q)) => q.name.clone(),
            Some(Subject::Comment(c)) => c.name.clone(),
            Some(Subject::Disruption(d)) => d.name.clone(),
            Some(Subject::UpdateRequest(u)) => u.name.clone(),
            _ => String::new(),
        });
    }
    Ok(out)
}

async fn order_at(client: &mut Exchange, name: &str) -> Result<pb::RepairOrder, tonic::Status> {
    client.get_repair_order(pb::GetRepairOrderRequest { name: name.into() }).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn a_providers_node_queues_its_quote_a_comment_a_disruption_and_an_update_request_cut_off_each_arriving_once()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let offer = ex
        .exchange(party::MHI)
        .await?
        .create_capacity_offer(pb::CreateCapacityOfferRequest {
            capacity_offer: Some(capacity_offer(party::MHI)),
            ..Default::default()
        })
        .await?
        .into_inner();
    let site = offer.site.clone().unwrap_or_default().name;
    let mut usaf = ex.exchange(party::USAF).await?;
    let asked_order = create(&mut usaf, String::new()).await?;
    let hidden = create(&mut usaf, String::new()).await?;
    let proxy = LinkProxy::start(ex.addr(), 37).await?;
    let node = ex.start_node_via(party::MHI, proxy.addr).await?;
    settle(&ex, &node).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let (mut local_quotes, mut local_comments, mut local_disruptions) = (
        Quotes::new(ex.node_channel(&node).await?),
        Comments::new(ex.node_channel(&node).await?),
        Disruptions::new(ex.node_channel(&node).await?),
    );
    let mut direct_quotes = Quotes::new(ex.channel(party::MHI).await?);
    let mut direct_comments = Comments::new(ex.channel(party::MHI).await?);
    let mut direct_disruptions = Disruptions::new(ex.channel(party::MHI).await?);
    assert_eq!(order_at(&mut local, &asked_order.name).await.unwrap_err().code(), tonic::Code::NotFound);

    // Asked to quote, MHI's own node shows the order, as the coordinator does.
    let asked = Quotes::new(ex.channel(party::USAF).await?)
        .request_quotes(pb::RequestQuotesRequest {
            name: asked_order.name.clone(),
            providers: vec![party::MHI.into()],
            ..Default::default()
        })
        .await?
        .into_inner()
        .quotes
        .remove(0);
    settle(&ex, &node).await?;
    let shown = order_at(&mut local, &asked_order.name).await?;
    assert_eq!(shown.version, order_at(&mut ex.exchange(party::MHI).await?, &asked_order.name).await?.version);
    let listed: Vec<String> = all_orders(&mut local, "").await?.into_iter().map(|o| o.name).collect();
    assert_eq!(listed, vec![asked_order.name.clone()], "only the order it was asked about");

    proxy.down();
    // Adversarial writes are refused at the node, as the coordinator refuses
    // them, and nothing is queued.
    let kai_quote = format!("{}/quotes/{}", asked_order.name, party::KAI);
    let forged = pb::SubmitQuoteRequest {
        name: kai_quote.clone(),
        terms: Some(final_terms(100_000, in_days(30))),
        version: 1,
        request_id: "forged-quote".into(),
    };
    let at_node = refusal(local_quotes.submit_quote(forged.clone()).await);
    assert_eq!(at_node.0, tonic::Code::NotFound, "a quote it was not asked for: {at_node:?}");
    assert!(at_node.1.contains(&kai_quote), "{at_node:?}");
    assert_eq!(at_node, refusal(direct_quotes.submit_quote(forged).await));
    let unasked = format!("{}/quotes/{}", hidden.name, party::MHI);
    let sneak = pb::SubmitQuoteRequest {
        name: unasked.clone(),
        terms: Some(final_terms(100_000, in_days(30))),
        version: 1,
        request_id: "unasked-quote".into(),
    };
    assert_eq!(refusal(local_quotes.submit_quote(sneak).await).0, tonic::Code::NotFound, "never asked");
    let stale = pb::SubmitQuoteRequest {
        name: asked.name.clone(),
        terms: Some(final_terms(100_000, in_days(-1))),
        version: asked.version,
        request_id: "lapsed-quote".into(),
    };
    let lapsed = local_quotes.submit_quote(stale).await.expect_err("refused");
    assert_eq!((lapsed.code(), fields(&lapsed)), (tonic::Code::InvalidArgument, vec!["terms.valid_until".into()]));
    let on_hidden = refusal(local_comments.add_comment(comment(&hidden.name, "Where is it?", "c-hidden")).await);
    assert_eq!(on_hidden.0, tonic::Code::NotFound, "a record it cannot see: {on_hidden:?}");
    assert!(on_hidden.1.contains(&hidden.name), "{on_hidden:?}");
    assert_eq!(on_hidden, refusal(direct_comments.add_comment(comment(&hidden.name, "Where is it?", "c-h2")).await));
    let blank = local_comments.add_comment(comment(&asked_order.name, "  ", "c-blank")).await.expect_err("refused");
    assert_eq!(fields(&blank), vec!["content.text".to_owned()], "{blank:?}");
    let elsewhere = local_disruptions.declare_disruption(notice("Sacheon Plant 2", "d-elsewhere")).await;
    let elsewhere = elsewhere.expect_err("not its site");
    assert_eq!((elsewhere.code(), fields(&elsewhere)), (tonic::Code::InvalidArgument, vec!["disruption.site".into()]));
    let others = pb::ResolveDisruptionRequest {
        name: format!("disruptions/{}.x", party::KAI),
        resolution: "fixed".into(),
        version: 1,
        request_id: "d-others".into(),
    };
    assert_eq!(refusal(local_disruptions.resolve_disruption(others).await).0, tonic::Code::NotFound);
    let ask_update = |record: &str, request_id: &str| pb::RequestUpdateRequest {
        record: record.into(),
        missing_report: None,
        text: "Is the serial right?".into(),
        request_id: request_id.into(),
    };
    let mut local_updates = Updates::new(ex.node_channel(&node).await?);
    let unseen = refusal(local_updates.request_update(ask_update(&hidden.name, "u-hidden")).await);
    assert_eq!(unseen.0, tonic::Code::NotFound, "{unseen:?}");
    let missing = pb::RequestUpdateRequest {
        record: String::new(),
        missing_report: Some(pb::MissingReport { party: party::USAF.into(), month: "2026-01".into(), tms: vec![] }),
        text: String::new(),
        request_id: "u-missing".into(),
    };
    let not_j4 = refusal(local_updates.request_update(missing).await);
    assert_eq!(not_j4.0, tonic::Code::PermissionDenied, "only a coordinator asks for a missing report: {not_j4:?}");
    assert_eq!(node.status().await?.queued_writes, 0, "nothing refused is queued");

    // Cut off, MHI quotes, comments and declares at its node: each answered once queued.
    let submit = pb::SubmitQuoteRequest {
        name: asked.name.clone(),
        terms: Some(final_terms(9_000_000, in_days(30))),
        version: asked.version,
        request_id: "quote-at-node".into(),
    };
    let quoted = local_quotes.submit_quote(submit.clone()).await?.into_inner();
    assert_eq!((quoted.state(), quoted.version), (pb::QuoteState::Quoted, asked.version + 1));
    assert_eq!(local_quotes.submit_quote(submit.clone()).await?.into_inner(), quoted, "a repeat is answered alike");
    let said = local_comments
        .add_comment(comment(&asked_order.name, "Slot free from the 3rd.", "comment-at-node"))
        .await?
        .into_inner();
    assert_eq!(said.author, party::MHI);
    let declared = local_disruptions.declare_disruption(notice(&site, "notice-at-node")).await?.into_inner();
    assert_eq!((declared.provider.as_str(), declared.state()), (party::MHI, pb::DisruptionState::Active));
    let update = local_updates.request_update(ask_update(&asked_order.name, "update-at-node")).await?.into_inner();
    assert_eq!((update.addressee.as_str(), update.record_version), (party::USAF, shown.version));
    assert_eq!(node.status().await?.queued_writes, 4);
    // The quote shows the order still to MHI's node, cut off.
    assert!(order_at(&mut local, &asked_order.name).await.is_ok());

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!((status.rejected_writes, status.queued_writes), (0, 0), "{status:?}");
    // Retried at the node after delivery: still the node's first answer, nothing new upstream.
    assert_eq!(local_quotes.submit_quote(submit).await?.into_inner(), quoted);
    let there = direct_quotes.get_quote(pb::GetQuoteRequest { name: asked.name.clone() }).await?.into_inner();
    assert_eq!((there.state(), there.version, there.terms), (pb::QuoteState::Quoted, quoted.version, quoted.terms));
    let comments = direct_comments
        .list_comments(pb::ListCommentsRequest { parent: asked_order.name.clone(), ..Default::default() })
        .await?
        .into_inner()
        .comments;
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0].name, said.name, "the node named it as the coordinator did");
    assert_eq!(comments[0].content.as_ref().map(|c| c.text.as_str()), Some("Slot free from the 3rd."));
    let notices = direct_disruptions.list_disruptions(pb::ListDisruptionsRequest::default()).await?.into_inner();
    assert_eq!(notices.disruptions.len(), 1, "{notices:?}");
    assert_eq!(
        (notices.disruptions[0].site.as_str(), notices.disruptions[0].name.as_str()),
        (site.as_str(), declared.name.as_str())
    );
    assert_eq!(events_of(&ex, pb::EventKind::QuoteSubmitted).await?, vec![asked.name.clone()], "once");
    assert_eq!(events_of(&ex, pb::EventKind::CommentAdded).await?, vec![comments[0].name.clone()], "once");
    let updates = Updates::new(ex.channel(party::USAF).await?)
        .list_update_requests(pb::ListUpdateRequestsRequest::default())
        .await?
        .into_inner()
        .update_requests;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0].name, update.name);
    assert_eq!((updates[0].requester.as_str(), updates[0].record.as_str()), (party::MHI, asked_order.name.as_str()));
    assert_eq!(events_of(&ex, pb::EventKind::UpdateRequested).await?, vec![updates[0].name.clone()], "once");
    assert_eq!(
        events_of(&ex, pb::EventKind::DisruptionDeclared).await?,
        vec![notices.disruptions[0].name.clone()],
        "once"
    );

    // The owner cancels: the quote closes, and MHI's node hides the order again.
    let now = order_at(&mut usaf, &asked_order.name).await?;
    cancel(&mut usaf, &now, String::new()).await?;
    settle(&ex, &node).await?;
    assert_eq!(order_at(&mut local, &asked_order.name).await.unwrap_err().code(), tonic::Code::NotFound);
    assert!(all_orders(&mut local, "").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn an_owners_node_asks_for_and_accepts_a_quote_cut_off_and_the_order_is_proposed_at_the_quoted_price()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = ex.exchange(party::USAF).await?;
    let order = create(&mut usaf, String::new()).await?;
    let proxy = LinkProxy::start(ex.addr(), 41).await?;
    let node = ex.start_node_via(party::USAF, proxy.addr).await?;
    settle(&ex, &node).await?;
    let mut local = Exchange::new(ex.node_channel(&node).await?);
    let mut local_quotes = Quotes::new(ex.node_channel(&node).await?);

    proxy.down();
    let ask = |providers: Vec<String>, request_id: &str| pb::RequestQuotesRequest {
        name: order.name.clone(),
        providers,
        all_eligible: false,
        request_id: request_id.into(),
    };
    // Its own order is no one's to quote on for itself; named twice is refused by field.
    let own = local_quotes.request_quotes(ask(vec![party::USAF.into()], "ask-self")).await.expect_err("refused");
    assert_eq!(fields(&own), vec!["providers[0]".to_owned()], "{own:?}");
    let twice =
        local_quotes.request_quotes(ask(vec![party::MHI.into(), party::MHI.into()], "ask-twice")).await.expect_err("x");
    assert_eq!(fields(&twice), vec!["providers[1]".to_owned()], "{twice:?}");
    assert_eq!(node.status().await?.queued_writes, 0);
    let asked = local_quotes.request_quotes(ask(vec![party::MHI.into()], "ask-at-node")).await?.into_inner().quotes;
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (asked[0].name.clone(), asked[0].state()),
        (format!("{}/quotes/{}", order.name, party::MHI), pb::QuoteState::Requested)
    );
    // Not yet answered: the node refuses to accept it, as the coordinator would.
    let early = pb::AcceptQuoteRequest { name: asked[0].name.clone(), version: 1, request_id: "accept-early".into() };
    assert_eq!(refusal(local_quotes.accept_quote(early).await).0, tonic::Code::FailedPrecondition);

    proxy.up();
    settle(&ex, &node).await?;
    let mut mhi = Quotes::new(ex.channel(party::MHI).await?);
    let request = mhi.get_quote(pb::GetQuoteRequest { name: asked[0].name.clone() }).await?.into_inner();
    let quoted = mhi
        .submit_quote(pb::SubmitQuoteRequest {
            name: request.name.clone(),
            terms: Some(final_terms(7_500_000, in_days(30))),
            version: request.version,
            request_id: String::new(),
        })
        .await?
        .into_inner();
    settle(&ex, &node).await?;

    proxy.down();
    let accept = pb::AcceptQuoteRequest {
        name: quoted.name.clone(),
        version: quoted.version,
        request_id: "accept-at-node".into(),
    };
    let done = local_quotes.accept_quote(accept.clone()).await?.into_inner();
    let proposed = done.repair_order.clone().unwrap_or_default();
    assert_eq!((proposed.state(), proposed.provider.as_str()), (pb::RepairOrderState::Proposed, party::MHI));
    assert_eq!(proposed.funding.as_ref().and_then(|f| f.estimated_cost.clone()), Some(usd(7_500_000)));
    assert_eq!(sync_state(&order_at(&mut local, &order.name).await?), pb::SyncState::Pending);

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!((status.rejected_writes, status.queued_writes), (0, 0), "{status:?}");
    let there = order_at(&mut usaf, &order.name).await?;
    assert_eq!((there.state(), there.provider.as_str()), (pb::RepairOrderState::Proposed, party::MHI));
    assert_eq!(there.funding.and_then(|f| f.estimated_cost), Some(usd(7_500_000)));
    assert_eq!(events_of(&ex, pb::EventKind::QuoteRequested).await?, vec![asked[0].name.clone()], "asked once");
    let accepted = events_of(&ex, pb::EventKind::QuoteAccepted).await?;
    assert_eq!(accepted.len(), 1, "accepted once: {accepted:?}");
    Ok(())
}

#[tokio::test]
async fn a_node_edits_withdraws_updates_resolves_and_answers_cut_off_by_the_same_rules_and_forwards_each_once()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    // MHI's offer, released to the Air Force (which comments on it and asks for a newer version).
    let mut released = capacity_offer(party::MHI);
    released.releasability = Some(pb::Releasability { party_ids: vec![party::USAF.into()], nations: vec![] });
    let offer = ex
        .exchange(party::MHI)
        .await?
        .create_capacity_offer(pb::CreateCapacityOfferRequest { capacity_offer: Some(released), ..Default::default() })
        .await?
        .into_inner();
    let site = offer.site.clone().unwrap_or_default().name;
    let (mut mhi_comments, mut usaf_comments) =
        (Comments::new(ex.channel(party::MHI).await?), Comments::new(ex.channel(party::USAF).await?));
    let mine = mhi_comments.add_comment(comment(&offer.name, "Surge possible in May.", "")).await?.into_inner();
    let theirs = usaf_comments.add_comment(comment(&offer.name, "Is May firm?", "")).await?.into_inner();
    let mut mhi_disruptions = Disruptions::new(ex.channel(party::MHI).await?);
    let notice = mhi_disruptions.declare_disruption(notice(&site, "")).await?.into_inner();
    let asked = Updates::new(ex.channel(party::USAF).await?)
        .request_update(pb::RequestUpdateRequest {
            record: offer.name.clone(),
            missing_report: None,
            text: "Please extend the validity.".into(),
            request_id: String::new(),
        })
        .await?
        .into_inner();
    let proxy = LinkProxy::start(ex.addr(), 43).await?;
    let node = ex.start_node_via(party::MHI, proxy.addr).await?;
    settle(&ex, &node).await?;
    let mut local_comments = Comments::new(ex.node_channel(&node).await?);
    let mut local_disruptions = Disruptions::new(ex.node_channel(&node).await?);
    let mut local_updates = Updates::new(ex.node_channel(&node).await?);

    proxy.down();
    let content = |text: &str| {
        Some(pb::CommentContent {
            comment_type: pb::CommentType::Warning as i32,
            reference_dates: vec![],
            text: text.into(),
        })
    };
    // Another party's comment, a notice moved to another site, a request it did not make: refused, nothing queued.
    let edit_theirs = pb::EditCommentRequest {
        name: theirs.name.clone(),
        content: content("May is firm."),
        version: theirs.version,
        request_id: "edit-theirs".into(),
    };
    let at_node = refusal(local_comments.edit_comment(edit_theirs.clone()).await);
    assert_eq!(at_node.0, tonic::Code::PermissionDenied, "{at_node:?}");
    assert_eq!(at_node, refusal(mhi_comments.edit_comment(edit_theirs).await), "as the coordinator refuses it");
    let moved = pb::UpdateDisruptionRequest {
        disruption: Some(pb::Disruption { site: "Nagoya".into(), ..notice.clone() }),
        request_id: "moved".into(),
    };
    let err = local_disruptions.update_disruption(moved).await.expect_err("refused");
    assert_eq!(fields(&err), vec!["disruption.site".to_owned()], "{err:?}");
    let withdraw_theirs =
        pb::WithdrawUpdateRequestRequest { name: asked.name.clone(), version: asked.version, request_id: "w".into() };
    assert_eq!(refusal(local_updates.withdraw_update_request(withdraw_theirs).await).0, tonic::Code::PermissionDenied);
    assert_eq!(node.status().await?.queued_writes, 0, "nothing refused is queued");

    // Its own: edited then withdrawn, the notice updated then resolved, the request answered.
    let edited = local_comments
        .edit_comment(pb::EditCommentRequest {
            name: mine.name.clone(),
            content: content("Surge possible from mid-May."),
            version: mine.version,
            request_id: "edit-mine".into(),
        })
        .await?
        .into_inner();
    assert_eq!((edited.version, edited.earlier_versions.len()), (2, 1));
    let withdrawn = local_comments
        .withdraw_comment(pb::WithdrawCommentRequest {
            name: mine.name.clone(),
            version: edited.version,
            request_id: "withdraw-mine".into(),
        })
        .await?
        .into_inner();
    assert_eq!((withdrawn.state(), withdrawn.version), (pb::CommentState::Withdrawn, 3));
    let updated = local_disruptions
        .update_disruption(pb::UpdateDisruptionRequest {
            disruption: Some(pb::Disruption { capacity_reduction_percent: 80, ..notice.clone() }),
            request_id: "update-notice".into(),
        })
        .await?
        .into_inner();
    assert_eq!((updated.version, updated.capacity_reduction_percent), (2, 80));
    let resolved = local_disruptions
        .resolve_disruption(pb::ResolveDisruptionRequest {
            name: notice.name.clone(),
            resolution: "Roof repaired.".into(),
            version: updated.version,
            request_id: "resolve-notice".into(),
        })
        .await?
        .into_inner();
    assert_eq!((resolved.state(), resolved.version), (pb::DisruptionState::Resolved, 3));
    let answered = local_updates
        .answer_update_request(pb::AnswerUpdateRequestRequest {
            name: asked.name.clone(),
            answer: "A new version follows in June.".into(),
            version: asked.version,
            request_id: "answer-update".into(),
        })
        .await?
        .into_inner();
    assert_eq!(answered.state(), pb::UpdateRequestState::Answered);
    assert_eq!(node.status().await?.queued_writes, 5);

    proxy.up();
    let status = settle(&ex, &node).await?;
    assert_eq!((status.rejected_writes, status.queued_writes), (0, 0), "{status:?}");
    let there = mhi_comments.get_comment(pb::GetCommentRequest { name: mine.name.clone() }).await?.into_inner();
    assert_eq!((there.state(), there.version), (pb::CommentState::Withdrawn, 3));
    let there = mhi_disruptions.get_disruption(pb::GetDisruptionRequest { name: notice.name.clone() }).await?;
    let there = there.into_inner();
    assert_eq!(
        (there.state(), there.version, there.capacity_reduction_percent),
        (pb::DisruptionState::Resolved, 3, 80)
    );
    let there = Updates::new(ex.channel(party::USAF).await?)
        .get_update_request(pb::GetUpdateRequestRequest { name: asked.name.clone() })
        .await?
        .into_inner();
    assert_eq!(
        (there.state(), there.answer.as_str()),
        (pb::UpdateRequestState::Answered, "A new version follows in June.")
    );
    for (kind, name) in [
        (pb::EventKind::CommentEdited, &mine.name),
        (pb::EventKind::CommentWithdrawn, &mine.name),
        (pb::EventKind::DisruptionUpdated, &notice.name),
        (pb::EventKind::DisruptionResolved, &notice.name),
        (pb::EventKind::UpdateRequestAnswered, &asked.name),
    ] {
        assert_eq!(events_of(&ex, kind).await?, vec![name.clone()], "{kind:?} once");
    }
    Ok(())
}
