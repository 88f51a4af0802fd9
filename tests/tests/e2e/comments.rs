//! Comments and requests for update through the API: a comment on an order
//! is seen exactly by those who may see the order (a third party can
//! neither read, list, add nor infer it, on reads or on the feed; a provider
//! proposed the order later sees it then); only the author edits (versions
//! kept) or withdraws; bad input is refused field by field; a request for a
//! newer version closes by itself when the owner writes one; the
//! coordinator asks for a missing monthly report once the configured days
//! have passed, and the request closes when the report arrives. Over gRPC,
//! HTTP/JSON, the CLI and a party's node.

use std::time::Duration;

use cosx_proto::v1 as pb;
use cosx_tests::{TestExchange, availability_report, capacity_offer, party, repair_order, violated_fields};
use tonic::Code;

use crate::cli::cosx;

type Comments = pb::comments_client::CommentsClient<tonic::transport::Channel>;
type Requests = pb::update_requests_client::UpdateRequestsClient<tonic::transport::Channel>;

async fn comments(ex: &TestExchange, who: &str) -> anyhow::Result<Comments> {
    Ok(pb::comments_client::CommentsClient::new(ex.channel(who).await?))
}

async fn requests(ex: &TestExchange, who: &str) -> anyhow::Result<Requests> {
    Ok(pb::update_requests_client::UpdateRequestsClient::new(ex.channel(who).await?))
}

async fn order(ex: &TestExchange) -> anyhow::Result<pb::RepairOrder> {
    let request = pb::CreateRepairOrderRequest { repair_order: Some(repair_order(party::USAF)), ..Default::default() };
    Ok(ex.exchange(party::USAF).await?.create_repair_order(request).await?.into_inner())
}

fn content(kind: pb::CommentType, text: &str) -> pb::CommentContent {
    pb::CommentContent { comment_type: kind as i32, reference_dates: vec!["2027-02-01".into()], text: text.into() }
}

async fn add(c: &mut Comments, parent: &str, text: &str, request_id: &str) -> Result<pb::Comment, tonic::Status> {
    let request = pb::AddCommentRequest {
        parent: parent.into(),
        content: Some(content(pb::CommentType::Warning, text)),
        request_id: request_id.into(),
        demand_cell: None,
    };
    c.add_comment(request).await.map(|r| r.into_inner())
}

/// Edits version 1 of comment `name` into an information comment saying `text`.
async fn edit_v1(c: &mut Comments, name: &str, text: &str) -> Result<pb::Comment, tonic::Status> {
    let request = pb::EditCommentRequest {
        name: name.into(),
        content: Some(content(pb::CommentType::Information, text)),
        version: 1,
        request_id: String::new(),
    };
    c.edit_comment(request).await.map(|r| r.into_inner())
}

async fn listed(c: &mut Comments, parent: &str, include_withdrawn: bool) -> Result<Vec<pb::Comment>, tonic::Status> {
    let request = pb::ListCommentsRequest { parent: parent.into(), include_withdrawn, ..Default::default() };
    c.list_comments(request).await.map(|r| r.into_inner().comments)
}

/// `who`'s feed from the start, as (kind, subject name) for comment and update-request events, read until quiet.
async fn conversation_events(ex: &TestExchange, who: &str) -> anyhow::Result<Vec<(pb::EventKind, String)>> {
    let mut stream = ex.feed(who).await?.subscribe(pb::SubscribeRequest::default()).await?.into_inner();
    let mut out = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(400), stream.message()).await {
        let Some(e) = next? else { break };
        let kind = pb::EventKind::try_from(e.kind).unwrap_or(pb::EventKind::Unspecified);
        match &e.subject {
            Some(pb::event::Subject::Comment(c)) => out.push((kind, c.name.clone())),
            Some(pb::event::Subject::UpdateRequest(r)) => out.push((kind, r.name.clone())),
            _ => {}
        }
    }
    Ok(out)
}

#[tokio::test]
async fn a_comment_is_seen_exactly_by_those_who_may_see_its_record() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut kai, mut mhi, mut j4) = (
        comments(&ex, party::USAF).await?,
        comments(&ex, party::KAI).await?,
        comments(&ex, party::MHI).await?,
        comments(&ex, party::COORDINATOR).await?,
    );
    let o = order(&ex).await?;
    let c = add(&mut usaf, &o.name, "Seal kit on back order; induction slips.", "c-1").await?;
    assert!(c.name.starts_with(&format!("{}/comments/", o.name)), "{}", c.name);
    assert_eq!((c.author.as_str(), c.version, c.parent.as_str()), (party::USAF, 1, o.name.as_str()));
    assert_eq!(listed(&mut usaf, &o.name, false).await?, vec![c.clone()]);
    assert_eq!(listed(&mut j4, &o.name, false).await?, vec![c.clone()], "coordinators see every record");

    // A third party: listing answers exactly what reading the order answers.
    let read = ex
        .exchange(party::KAI)
        .await?
        .get_repair_order(pb::GetRepairOrderRequest { name: o.name.clone() })
        .await
        .expect_err("hidden order");
    let list = listed(&mut kai, &o.name, true).await.expect_err("hidden comments");
    assert_eq!((list.code(), list.message()), (read.code(), read.message()));
    assert_eq!(list.code(), Code::NotFound);
    // ... the same as for an order that does not exist at all.
    let absent = listed(&mut kai, "repairOrders/US-USAF-OOALC.nope", false).await.expect_err("absent");
    assert_eq!(absent.code(), Code::NotFound);
    let get = kai.get_comment(pb::GetCommentRequest { name: c.name.clone() }).await.expect_err("hidden comment");
    let made_up = format!("{}/comments/0000", o.name);
    let get_absent = kai.get_comment(pb::GetCommentRequest { name: made_up.clone() }).await.expect_err("absent");
    assert_eq!((get.code(), get_absent.code()), (Code::NotFound, Code::NotFound));
    assert_eq!(get.message().replace(&c.name, "X"), get_absent.message().replace(&made_up, "X"));
    let write = add(&mut kai, &o.name, "I was here", "").await.expect_err("no comment on a hidden record");
    assert_eq!(write.code(), Code::NotFound);
    let edit = edit_v1(&mut kai, &c.name, "mine").await.expect_err("hidden");
    assert_eq!(edit.code(), Code::NotFound, "editing a hidden comment does not reveal it exists");
    assert!(conversation_events(&ex, party::KAI).await?.is_empty(), "nothing on a third party's feed");
    assert_eq!(conversation_events(&ex, party::USAF).await?, vec![(pb::EventKind::CommentAdded, c.name.clone())]);

    // MHI cannot see the order until it is proposed to MHI; then it sees its comments.
    assert_eq!(listed(&mut mhi, &o.name, false).await.expect_err("not yet").code(), Code::NotFound);
    let proposed = ex.propose(&o, party::MHI).await?;
    assert_eq!(proposed.provider, party::MHI);
    assert_eq!(listed(&mut mhi, &o.name, false).await?, vec![c.clone()]);
    let reply = add(&mut mhi, &o.name, "We can take it after 2027-02-01.", "").await?;
    assert_eq!(listed(&mut usaf, &o.name, false).await?.len(), 2);
    assert_eq!(listed(&mut kai, &o.name, false).await.expect_err("still hidden").code(), Code::NotFound);
    assert!(conversation_events(&ex, party::MHI).await?.contains(&(pb::EventKind::CommentAdded, reply.name)));
    Ok(())
}

#[tokio::test]
async fn only_the_author_edits_or_withdraws_and_every_version_is_kept() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let (mut usaf, mut j4) = (comments(&ex, party::USAF).await?, comments(&ex, party::COORDINATOR).await?);
    let o = order(&ex).await?;
    let c = add(&mut usaf, &o.name, "first words", "").await?;
    let edit = |name: &str, version: i64, text: &str, request_id: &str| pb::EditCommentRequest {
        name: name.into(),
        content: Some(content(pb::CommentType::ActionRequired, text)),
        version,
        request_id: request_id.into(),
    };
    // The coordinator may see it, but it is not its comment.
    let foreign = j4.edit_comment(edit(&c.name, 1, "not yours", "")).await.expect_err("another's comment");
    assert_eq!(foreign.code(), Code::PermissionDenied, "{foreign:?}");
    let stale = usaf.edit_comment(edit(&c.name, 7, "stale", "")).await.expect_err("stale version");
    assert_eq!(stale.code(), Code::Aborted);
    let edited = usaf.edit_comment(edit(&c.name, 1, "second words", "e-1")).await?.into_inner();
    assert_eq!(edited.version, 2);
    assert_eq!(edited.content.as_ref().map(|c| c.text.as_str()), Some("second words"));
    assert_eq!(edited.earlier_versions.len(), 1);
    assert_eq!(edited.earlier_versions[0].content, c.content);
    // A repeated request id replays the first answer and changes nothing.
    assert_eq!(usaf.edit_comment(edit(&c.name, 1, "second words", "e-1")).await?.into_inner(), edited);
    let withdraw =
        |name: &str, version: i64| pb::WithdrawCommentRequest { name: name.into(), version, request_id: String::new() };
    assert_eq!(
        j4.withdraw_comment(withdraw(&c.name, 2)).await.expect_err("not the author").code(),
        Code::PermissionDenied
    );
    let gone = usaf.withdraw_comment(withdraw(&c.name, 2)).await?.into_inner();
    assert_eq!((gone.state, gone.version), (pb::CommentState::Withdrawn as i32, 3));
    assert!(listed(&mut usaf, &o.name, false).await?.is_empty());
    assert_eq!(listed(&mut usaf, &o.name, true).await?, vec![gone.clone()]);
    let after = usaf.edit_comment(edit(&c.name, 3, "back again", "")).await.expect_err("withdrawn");
    assert_eq!(after.code(), Code::FailedPrecondition);
    let kinds: Vec<pb::EventKind> = conversation_events(&ex, party::USAF).await?.into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, [pb::EventKind::CommentAdded, pb::EventKind::CommentEdited, pb::EventKind::CommentWithdrawn]);
    Ok(())
}

#[tokio::test]
async fn bad_comments_are_refused_field_by_field_and_change_nothing() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let mut usaf = comments(&ex, party::USAF).await?;
    let o = order(&ex).await?;
    let request = |parent: &str, kind: i32, dates: Vec<&str>, text: String| pb::AddCommentRequest {
        parent: parent.into(),
        content: Some(pb::CommentContent {
            comment_type: kind,
            reference_dates: dates.into_iter().map(String::from).collect(),
            text,
        }),
        request_id: String::new(),
        demand_cell: None,
    };
    let cases = [
        (request(&o.name, 2, vec![], String::new()), vec!["content.text"]),
        (request(&o.name, 2, vec![], "x".repeat(5001)), vec!["content.text"]),
        (request(&o.name, 0, vec![], "x".into()), vec!["content.comment_type"]),
        (request(&o.name, 99, vec!["soon"], "x".into()), vec!["content.comment_type", "content.reference_dates[0]"]),
        (request(&o.name, 1, vec!["2027-01-01", "2027-01-01"], "x".into()), vec!["content.reference_dates"]),
        (request("quotes/x", 1, vec![], "x".into()), vec!["parent"]),
        (request(&format!("{}/comments/a", o.name), 1, vec![], "x".into()), vec!["parent"]),
    ];
    for (bad, fields) in cases {
        let status = usaf.add_comment(bad).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(violated_fields(&status), fields);
    }
    assert!(listed(&mut usaf, &o.name, true).await?.is_empty(), "a refusal changes nothing");
    // Exactly 5,000 characters (not bytes) is accepted.
    let longest = usaf.add_comment(request(&o.name, 1, vec![], "é".repeat(5000))).await?.into_inner();
    assert_eq!(longest.content.map(|c| c.text.chars().count()), Some(5000));
    Ok(())
}

#[tokio::test]
async fn comments_on_a_report_follow_the_report() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let report = ex
        .exchange(party::USAF)
        .await?
        .submit_availability_report(pb::SubmitAvailabilityReportRequest {
            availability_report: Some(availability_report(party::USAF)),
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut j4 = comments(&ex, party::COORDINATOR).await?;
    let c = add(&mut j4, &report.name, "NMCS looks high for F-35A; please confirm.", "").await?;
    assert_eq!(listed(&mut comments(&ex, party::USAF).await?, &report.name, false).await?, vec![c]);
    let hidden = add(&mut comments(&ex, party::MHI).await?, &report.name, "x", "").await.expect_err("hidden");
    assert_eq!(hidden.code(), Code::NotFound);
    Ok(())
}

async fn ask_record(r: &mut Requests, record: &str, text: &str) -> Result<pb::UpdateRequest, tonic::Status> {
    let request = pb::RequestUpdateRequest { record: record.into(), text: text.into(), ..Default::default() };
    r.request_update(request).await.map(|r| r.into_inner())
}

async fn get_request(r: &mut Requests, name: &str) -> Result<pb::UpdateRequest, tonic::Status> {
    r.get_update_request(pb::GetUpdateRequestRequest { name: name.into() }).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn a_request_for_a_newer_version_is_answered_or_closes_when_the_owner_writes_one() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let core = ex.running.as_ref().map(|r| r.core.clone()).ok_or_else(|| anyhow::anyhow!("not running"))?;
    let (mut usaf, mut kai, mut j4) =
        (requests(&ex, party::USAF).await?, requests(&ex, party::KAI).await?, requests(&ex, party::COORDINATOR).await?);
    let o = order(&ex).await?;
    // Asking about a record one may not see is NOT_FOUND, as reading it is.
    assert_eq!(ask_record(&mut kai, &o.name, "").await.expect_err("hidden").code(), Code::NotFound);
    assert_eq!(ask_record(&mut usaf, &o.name, "").await.expect_err("own").code(), Code::FailedPrecondition);
    let asked = ask_record(&mut j4, &o.name, "Is the required-by date still right?").await?;
    assert_eq!((asked.addressee.as_str(), asked.record_version), (party::USAF, o.version));
    assert_eq!(asked.state, pb::UpdateRequestState::Open as i32);
    let mine = usaf
        .list_update_requests(pb::ListUpdateRequestsRequest { addressee: party::USAF.into(), ..Default::default() })
        .await?
        .into_inner()
        .update_requests;
    assert_eq!(mine, vec![asked.clone()]);
    assert_eq!(get_request(&mut kai, &asked.name).await.expect_err("hidden").code(), Code::NotFound);
    let all = pb::ListUpdateRequestsRequest::default();
    assert!(kai.list_update_requests(all.clone()).await?.into_inner().update_requests.is_empty());

    // A second request is answered by the addressee only, once.
    let second = ask_record(&mut j4, &o.name, "").await?;
    let answer = |version: i64, text: &str| pb::AnswerUpdateRequestRequest {
        name: second.name.clone(),
        answer: text.into(),
        version,
        request_id: String::new(),
    };
    assert_eq!(j4.answer_update_request(answer(1, "me")).await.expect_err("not asked").code(), Code::PermissionDenied);
    let empty = usaf.answer_update_request(answer(1, "")).await.expect_err("empty");
    assert_eq!(violated_fields(&empty), ["answer"]);
    let answered = usaf.answer_update_request(answer(1, "Unchanged; the date holds.")).await?.into_inner();
    assert_eq!((answered.state, answered.version), (pb::UpdateRequestState::Answered as i32, 2));
    let again = usaf.answer_update_request(answer(2, "again")).await.expect_err("closed");
    assert_eq!(again.code(), Code::FailedPrecondition);

    // The owner writes a newer version: the first request closes by itself.
    ex.exchange(party::USAF)
        .await?
        .transition_repair_order(pb::TransitionRepairOrderRequest {
            name: o.name.clone(),
            version: o.version,
            action: pb::RepairOrderAction::Cancel as i32,
            reason: "no longer needed".into(),
            ..Default::default()
        })
        .await?;
    core.close_satisfied_update_requests().await?;
    let satisfied = get_request(&mut usaf, &asked.name).await?;
    assert_eq!(satisfied.state, pb::UpdateRequestState::Satisfied as i32, "{satisfied:?}");
    assert!(satisfied.answer.contains("version 2"), "{}", satisfied.answer);
    let kinds: Vec<pb::EventKind> = conversation_events(&ex, party::USAF).await?.into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds.iter().filter(|k| **k == pb::EventKind::UpdateRequested).count(), 2);
    assert!(kinds.contains(&pb::EventKind::UpdateRequestAnswered));
    assert!(kinds.contains(&pb::EventKind::UpdateRequestSatisfied));
    assert!(conversation_events(&ex, party::KAI).await?.is_empty());
    Ok(())
}

/// A monthly F-35A report of `usaf`'s for the month starting `start` (days in the month).
fn monthly_report(start: &str, days: u32) -> pb::AvailabilityReport {
    let mut r = availability_report(party::USAF);
    let first: chrono::NaiveDate = start.parse().unwrap_or_default();
    r.timeframe_start = start.into();
    r.timeframe_end = (first + chrono::Duration::days(i64::from(days) - 1)).to_string();
    // The example is a 31-day month: take a shorter month's days off what was available.
    let short = f64::from(31 - days);
    if let Some(t) = r.tai_time.as_mut() {
        t.available -= 24.0 * short;
    }
    if let Some(t) = r.pmai_time.as_mut() {
        t.available -= 20.0 * short;
    }
    r
}

#[tokio::test]
async fn the_coordinator_asks_for_a_missing_monthly_report_once_the_days_have_passed() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let core = ex.running.as_ref().map(|r| r.core.clone()).ok_or_else(|| anyhow::anyhow!("not running"))?;
    let mut exchange = ex.exchange(party::USAF).await?;
    for (start, days) in [("2026-08-01", 31), ("2026-10-01", 31)] {
        let request = pb::SubmitAvailabilityReportRequest {
            availability_report: Some(monthly_report(start, days)),
            ..Default::default()
        };
        exchange.submit_availability_report(request).await?;
    }
    let day = |s: &str| s.parse::<chrono::NaiveDate>();
    let name = "updateRequests/missing-report.US-USAF-OOALC.2026-09";
    let mut usaf = requests(&ex, party::USAF).await?;
    // Ten days after September ends the report is not yet overdue ...
    core.sweep_update_requests(day("2026-10-10")?, 10).await?;
    assert_eq!(get_request(&mut usaf, name).await.expect_err("not yet").code(), Code::NotFound);
    // ... the eleventh day it is, and the coordinator asks, once.
    core.sweep_update_requests(day("2026-10-11")?, 10).await?;
    core.sweep_update_requests(day("2026-10-12")?, 10).await?;
    let asked = get_request(&mut usaf, name).await?;
    assert_eq!((asked.requester.as_str(), asked.state), ("COSX-SIGNALS", pb::UpdateRequestState::Open as i32));
    let missing = asked.missing_report.clone().unwrap_or_default();
    assert_eq!((missing.month.as_str(), missing.tms), ("2026-09", vec!["F-35A".to_owned()]));
    let events = conversation_events(&ex, party::USAF).await?;
    assert_eq!(events, vec![(pb::EventKind::UpdateRequested, name.to_owned())], "raised once");
    assert_eq!(
        get_request(&mut requests(&ex, party::MHI).await?, name).await.expect_err("not MHI's").code(),
        Code::NotFound
    );
    // The report arrives: the request closes by itself.
    let late = pb::SubmitAvailabilityReportRequest {
        availability_report: Some(monthly_report("2026-09-01", 30)),
        ..Default::default()
    };
    exchange.submit_availability_report(late).await?;
    core.close_satisfied_update_requests().await?;
    assert_eq!(get_request(&mut usaf, name).await?.state, pb::UpdateRequestState::Satisfied as i32);
    // Settled months are never asked again.
    core.sweep_update_requests(day("2026-12-20")?, 10).await?;
    assert_eq!(get_request(&mut usaf, name).await?.state, pb::UpdateRequestState::Satisfied as i32);
    Ok(())
}

#[tokio::test]
async fn only_coordinators_ask_a_party_for_a_missing_report_of_a_month_that_is_over() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let today = chrono::Utc::now().date_naive();
    let this_month = today.format("%Y-%m").to_string();
    let last_month =
        (today - chrono::Duration::days(i64::from(chrono::Datelike::day(&today)))).format("%Y-%m").to_string();
    let ask = |party: &str, month: &str| pb::RequestUpdateRequest {
        missing_report: Some(pb::MissingReport { party: party.into(), month: month.into(), tms: vec![] }),
        ..Default::default()
    };
    let mut j4 = requests(&ex, party::COORDINATOR).await?;
    let refused = requests(&ex, party::USAF).await?.request_update(ask(party::KAI, &last_month)).await.expect_err("no");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let early = j4.request_update(ask(party::KAI, &this_month)).await.expect_err("month not over");
    assert_eq!(early.code(), Code::FailedPrecondition);
    let bad = j4.request_update(ask("kai", "2027-13")).await.expect_err("bad");
    assert_eq!(violated_fields(&bad), ["missing_report.party", "missing_report.month"]);
    let both = pb::RequestUpdateRequest { record: "repairOrders/x".into(), ..ask(party::KAI, &last_month) };
    assert_eq!(violated_fields(&j4.request_update(both).await.expect_err("both")), ["missing_report"]);
    let asked = j4.request_update(ask(party::KAI, &last_month)).await?.into_inner();
    assert_eq!(asked.addressee, party::KAI);
    let mut kai = requests(&ex, party::KAI).await?;
    assert_eq!(get_request(&mut kai, &asked.name).await?, asked);
    // The coordinator withdraws what it asked.
    let withdraw = pb::WithdrawUpdateRequestRequest { name: asked.name.clone(), version: 1, request_id: String::new() };
    assert_eq!(
        kai.withdraw_update_request(withdraw.clone()).await.expect_err("not KAI's").code(),
        Code::PermissionDenied
    );
    let gone = j4.withdraw_update_request(withdraw).await?.into_inner();
    assert_eq!(gone.state, pb::UpdateRequestState::Withdrawn as i32);
    Ok(())
}

#[tokio::test]
async fn comments_work_over_http_json_and_the_cli_with_the_same_rules() -> anyhow::Result<()> {
    use cosx_tests::http_json;
    use http::{Method, StatusCode};
    use serde_json::json;
    let ex = TestExchange::start().await?;
    let o = order(&ex).await?;
    let (usaf, kai) = (ex.channel(party::USAF).await?, ex.channel(party::KAI).await?);
    let body = json!({"content": {"commentType": "COMMENT_TYPE_INFORMATION", "text": "Shipped by air."}});
    let added = http_json(&usaf, Method::POST, &format!("/v1/{}/comments", o.name), &[], Some(body.clone())).await?;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let refused = http_json(
        &usaf,
        Method::POST,
        &format!("/v1/{}/comments", o.name),
        &[],
        Some(json!({"content": {"commentType": "COMMENT_TYPE_WARNING", "text": ""}})),
    )
    .await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.to_string().contains("content.text"), "{}", refused.body);
    let hidden = http_json(&kai, Method::GET, &format!("/v1/{}/comments", o.name), &[], None).await?;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
    let hidden_add = http_json(&kai, Method::POST, &format!("/v1/{}/comments", o.name), &[], Some(body)).await?;
    assert_eq!(hidden_add.status, StatusCode::NOT_FOUND, "{}", hidden_add.body);

    // The CLI, as the coordinator, comments on the same order.
    let dir = crate::cli::pki_dir(&ex)?;
    let pki = dir.path();
    let args =
        ["comment", "add", &o.name, "--type", "action-required", "--text", "Confirm the NSN.", "--date", "2027-01-15"];
    assert!(cosx(&ex, party::COORDINATOR, pki, &args).await);
    assert!(!cosx(&ex, party::COORDINATOR, pki, &["comment", "add", &o.name, "--type", "warning", "--text", ""]).await);
    assert!(cosx(&ex, party::USAF, pki, &["comment", "list", &o.name]).await);
    assert!(
        cosx(&ex, party::COORDINATOR, pki, &["update-request", "ask", &o.name, "--text", "Newer data, please."]).await
    );
    let listed = http_json(&usaf, Method::GET, &format!("/v1/{}/comments", o.name), &[], None).await?;
    let texts: Vec<&str> = listed.body["comments"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["content"]["text"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(texts, ["Shipped by air.", "Confirm the NSN."]);
    let asked = http_json(&usaf, Method::GET, "/v1/updateRequests", &[], None).await?;
    assert_eq!(asked.body["updateRequests"].as_array().map(Vec::len), Some(1), "{}", asked.body);
    Ok(())
}

#[tokio::test]
async fn a_party_comments_through_its_own_node_as_it_would_at_the_coordinator() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let usaf_node = ex.start_node(party::USAF).await?;
    let mut at_node = pb::comments_client::CommentsClient::new(ex.node_channel(&usaf_node).await?);
    let o = order(&ex).await?;
    // The node checks the comment against its replica, queues it and forwards it.
    usaf_node.settled(Duration::from_secs(30)).await?;
    let c = add(&mut at_node, &o.name, "Through the node.", "node-c").await?;
    usaf_node.settled(Duration::from_secs(30)).await?;
    // Named alike, the same comment; its times are the coordinator's.
    let there = listed(&mut comments(&ex, party::USAF).await?, &o.name, false).await?;
    let times = |c: &pb::Comment| pb::Comment { create_time: None, update_time: None, ..c.clone() };
    assert_eq!(there.iter().map(times).collect::<Vec<_>>(), vec![times(&c)]);
    assert_eq!(listed(&mut at_node, &o.name, false).await?, there);
    Ok(())
}

fn f35_march() -> pb::DemandCellRef {
    pb::DemandCellRef {
        region: pb::Region::Indopacom as i32,
        tms: "F-35A".into(),
        level: pb::MaintenanceLevel::Depot as i32,
        month: "2027-03".into(),
    }
}

async fn add_on_cell(c: &mut Comments, cell: pb::DemandCellRef, text: &str) -> Result<pb::Comment, tonic::Status> {
    let request = pb::AddCommentRequest {
        content: Some(content(pb::CommentType::ActionRequired, text)),
        demand_cell: Some(cell),
        ..Default::default()
    };
    c.add_comment(request).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn coordinators_comment_on_a_demand_cell_that_no_other_party_can_see_or_touch() -> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let cell_name = "demandCells/INDOPACOM.DEPOT.2027-03.F-35A";
    let mut j4 = comments(&ex, party::COORDINATOR).await?;
    // By its key fields, or by its name: the same cell.
    let c = add_on_cell(&mut j4, f35_march(), "Komaki South is short in March; ask KAI for surge.").await?;
    assert_eq!(c.parent, cell_name);
    assert!(c.name.starts_with(&format!("{cell_name}/comments/")), "{}", c.name);
    assert_eq!(c.demand_cell, Some(f35_march()), "the key fields come back");
    let second = add(&mut j4, cell_name, "KAI confirms 400 h of surge.", "").await?;
    assert_eq!(listed(&mut j4, cell_name, false).await?, vec![c.clone(), second.clone()]);
    let by_key = pb::ListCommentsRequest { demand_cell: Some(f35_march()), ..Default::default() };
    assert_eq!(j4.list_comments(by_key.clone()).await?.into_inner().comments, vec![c.clone(), second]);
    // Another month of the same series is another cell.
    let april = pb::DemandCellRef { month: "2027-04".into(), ..f35_march() };
    assert!(
        j4.list_comments(pb::ListCommentsRequest { demand_cell: Some(april.clone()), ..Default::default() })
            .await?
            .into_inner()
            .comments
            .is_empty()
    );

    // The series a cell's chart shows: every level and month of INDOPACOM's F-35A, one listing,
    // and no other label's or region's cells.
    let intermediate = pb::DemandCellRef { level: pb::MaintenanceLevel::Intermediate as i32, ..april.clone() };
    add_on_cell(&mut j4, intermediate, "Intermediate work in April.").await?;
    add_on_cell(&mut j4, pb::DemandCellRef { tms: "F-35".into(), ..f35_march() }, "Another label").await?;
    add_on_cell(&mut j4, pb::DemandCellRef { region: pb::Region::Eucom as i32, ..f35_march() }, "Elsewhere").await?;
    let series = pb::DemandCellRef { level: 0, month: String::new(), ..f35_march() };
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = j4
            .list_comments(pb::ListCommentsRequest {
                demand_cell: Some(series.clone()),
                page_size: 1,
                page_token: token,
                ..Default::default()
            })
            .await?
            .into_inner();
        seen.extend(page.comments.into_iter().map(|c| c.content.map(|t| t.text).unwrap_or_default()));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        seen,
        [
            "Komaki South is short in March; ask KAI for surge.",
            "KAI confirms 400 h of surge.",
            "Intermediate work in April."
        ],
        "the series, oldest first, across pages"
    );
    let bad_series = pb::DemandCellRef { region: 42, tms: String::new(), level: 0, month: String::new() };
    let err = j4
        .list_comments(pb::ListCommentsRequest { demand_cell: Some(bad_series), ..Default::default() })
        .await
        .expect_err("bad series");
    assert_eq!(violated_fields(&err), ["demand_cell.region", "demand_cell.tms"]);

    // A contractor, an organic depot and a partner government: NOT_FOUND on every step, exactly as for
    // a record they may not see, whether the cell has comments or not.
    let empty_cell = "demandCells/EUCOM.DEPOT.2027-03.F-16C";
    for who in [party::MHI, party::USAF, party::RAAF] {
        let mut them = comments(&ex, who).await?;
        let list = listed(&mut them, cell_name, true).await.expect_err("coordinators only");
        let list_empty = listed(&mut them, empty_cell, true).await.expect_err("coordinators only");
        assert_eq!((list.code(), list_empty.code()), (Code::NotFound, Code::NotFound), "{who}");
        assert_eq!(list.message().replace(cell_name, "X"), list_empty.message().replace(empty_cell, "X"));
        let by_key = them.list_comments(by_key.clone()).await.expect_err("coordinators only");
        assert_eq!(by_key.code(), Code::NotFound);
        let by_series = pb::ListCommentsRequest { demand_cell: Some(series.clone()), ..Default::default() };
        assert_eq!(them.list_comments(by_series).await.expect_err("coordinators only").code(), Code::NotFound);
        assert_eq!(add_on_cell(&mut them, f35_march(), "mine").await.expect_err("no").code(), Code::NotFound);
        assert_eq!(add(&mut them, cell_name, "mine", "").await.expect_err("no").code(), Code::NotFound);
        let get = them.get_comment(pb::GetCommentRequest { name: c.name.clone() }).await.expect_err("hidden");
        assert_eq!(get.code(), Code::NotFound, "{who}");
        let edit = edit_v1(&mut them, &c.name, "mine").await.expect_err("hidden");
        assert_eq!(edit.code(), Code::NotFound, "{who}");
        let withdraw = them
            .withdraw_comment(pb::WithdrawCommentRequest {
                name: c.name.clone(),
                version: 1,
                request_id: String::new(),
            })
            .await
            .expect_err("hidden");
        assert_eq!(withdraw.code(), Code::NotFound, "{who}");
        assert!(conversation_events(&ex, who).await?.is_empty(), "nothing on {who}'s feed");
    }
    // Nor may anyone ask a cell for a newer version: it has no owner.
    let asked = ask_record(&mut requests(&ex, party::COORDINATOR).await?, cell_name, "").await.expect_err("no owner");
    assert_eq!(violated_fields(&asked), ["record"]);
    assert_eq!(
        conversation_events(&ex, party::COORDINATOR).await?.len(),
        5,
        "coordinators see the five comments on the feed, and nothing was written by the refused steps"
    );

    // Bad keys are refused field by field, and nothing changes.
    let bad = pb::DemandCellRef { region: 42, tms: "x".repeat(65), level: 0, month: "March".into() };
    let err = add_on_cell(&mut j4, bad, "x").await.expect_err("bad cell");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&err),
        ["demand_cell.region", "demand_cell.tms", "demand_cell.level", "demand_cell.month"]
    );
    let both = pb::AddCommentRequest {
        parent: cell_name.into(),
        demand_cell: Some(f35_march()),
        content: Some(content(pb::CommentType::Warning, "x")),
        ..Default::default()
    };
    assert_eq!(violated_fields(&j4.add_comment(both).await.expect_err("both")), ["demand_cell"]);
    for name in [
        "demandCells/INDOPACOM.DEPOT.2027-13.F-35A",
        "demandCells/ATLANTIS.DEPOT.2027-03.F-35A",
        "demandCells/INDOPACOM.DEPOT.2027-03.",
        "demandCells/INDOPACOM.DEPOT.2027-03.F.2dA",
    ] {
        let err = add(&mut j4, name, "x", "").await.expect_err("bad name");
        assert_eq!(violated_fields(&err), ["parent"], "{name}");
    }
    assert_eq!(listed(&mut j4, cell_name, true).await?.len(), 2, "refusals changed nothing");

    // Over HTTP/JSON the cell is its name in the path, with the same rule.
    let path = format!("/v1/{cell_name}/comments");
    let coordinator = ex.channel(party::COORDINATOR).await?;
    let seen = cosx_tests::http_json(&coordinator, http::Method::GET, &path, &[], None).await?;
    assert_eq!(seen.status, http::StatusCode::OK, "{}", seen.body);
    assert_eq!(seen.body["comments"].as_array().map(Vec::len), Some(2), "{}", seen.body);
    assert_eq!(seen.body["comments"][0]["demandCell"]["month"], "2027-03", "{}", seen.body);
    let contractor = ex.channel(party::KAI).await?;
    let hidden = cosx_tests::http_json(&contractor, http::Method::GET, &path, &[], None).await?;
    assert_eq!(hidden.status, http::StatusCode::NOT_FOUND, "{}", hidden.body);

    // The CLI names the cell by its key fields too.
    let dir = crate::cli::pki_dir(&ex)?;
    let pki = dir.path();
    let cell = "indopacom:depot:2027-03:F-35A";
    assert!(
        cosx(
            &ex,
            party::COORDINATOR,
            pki,
            &["comment", "add", "--demand-cell", cell, "--type", "information", "--text", "Noted."]
        )
        .await
    );
    assert!(
        !cosx(
            &ex,
            party::MHI,
            pki,
            &["comment", "add", "--demand-cell", cell, "--type", "information", "--text", "Mine."]
        )
        .await
    );
    assert!(cosx(&ex, party::COORDINATOR, pki, &["comment", "list", "--demand-cell", cell]).await);
    assert_eq!(listed(&mut j4, cell_name, false).await?.len(), 3);
    Ok(())
}

#[tokio::test]
async fn the_coordinator_asks_for_a_newer_version_of_an_offer_that_lapsed_while_orders_depend_on_it()
-> anyhow::Result<()> {
    let ex = TestExchange::start().await?;
    let core = ex.running.as_ref().map(|r| r.core.clone()).ok_or_else(|| anyhow::anyhow!("not running"))?;
    // MHI's F-35A offer is valid through 2027-12-31; KAI's, for the same work, has no order with KAI.
    let mut offers = Vec::new();
    for who in [party::MHI, party::KAI] {
        offers.push(ex.create_offer(capacity_offer(who)).await?);
    }
    let (mhi_offer, kai_offer) = (offers[0].clone(), offers[1].clone());
    // One order PROPOSED to MHI, another ACCEPTED by MHI: both depend on MHI's offer.
    for accept in [false, true] {
        let o = order(&ex).await?;
        let proposed = ex.propose(&o, party::MHI).await?;
        if accept {
            ex.exchange(party::MHI)
                .await?
                .transition_repair_order(pb::TransitionRepairOrderRequest {
                    name: proposed.name.clone(),
                    version: proposed.version,
                    action: pb::RepairOrderAction::Accept as i32,
                    ..Default::default()
                })
                .await?;
        }
    }
    let day = |s: &str| s.parse::<chrono::NaiveDate>();
    let name = format!("updateRequests/lapsed-offer.{}.v1", mhi_offer.name.trim_start_matches("capacityOffers/"));
    let mut mhi = requests(&ex, party::MHI).await?;
    // On its last valid day nothing is asked ...
    let swept = core.sweep_update_requests(day("2027-12-31")?, 10).await?;
    assert_eq!(swept.lapsed_offers, 0);
    assert_eq!(get_request(&mut mhi, &name).await.expect_err("not yet").code(), Code::NotFound);
    // ... the day after, MHI is asked once, for that version; KAI's lapsed offer has no order on it.
    assert_eq!(core.sweep_update_requests(day("2028-01-01")?, 10).await?.lapsed_offers, 1);
    assert_eq!(core.sweep_update_requests(day("2028-01-02")?, 10).await?.lapsed_offers, 0, "not twice");
    let asked = get_request(&mut mhi, &name).await?;
    assert_eq!((asked.requester.as_str(), asked.addressee.as_str()), ("COSX-SIGNALS", party::MHI));
    assert_eq!((asked.record.as_str(), asked.record_version), (mhi_offer.name.as_str(), 1));
    assert_eq!(asked.state, pb::UpdateRequestState::Open as i32);
    assert!(asked.text.contains("2027-12-31") && asked.text.contains("2 order(s)"), "{}", asked.text);
    let listed = requests(&ex, party::COORDINATOR)
        .await?
        .list_update_requests(pb::ListUpdateRequestsRequest::default())
        .await?
        .into_inner()
        .update_requests;
    assert_eq!(listed.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), [name.as_str()], "none for KAI's");
    assert!(!listed.iter().any(|r| r.record == kai_offer.name));
    // Seen by MHI and coordinators only.
    for who in [party::KAI, party::USAF] {
        let hidden = get_request(&mut requests(&ex, who).await?, &name).await.expect_err("not theirs");
        assert_eq!(hidden.code(), Code::NotFound, "{who}");
    }
    let events = conversation_events(&ex, party::MHI).await?;
    assert_eq!(events, vec![(pb::EventKind::UpdateRequested, name.clone())]);
    assert!(conversation_events(&ex, party::KAI).await?.is_empty());

    // MHI publishes a newer version with a new validity: the request closes by itself.
    let mut newer = capacity_offer(party::MHI);
    newer.name = mhi_offer.name.clone();
    newer.version = 1;
    newer.valid_until = "2028-12-31".into();
    let updated = ex
        .exchange(party::MHI)
        .await?
        .update_capacity_offer(pb::UpdateCapacityOfferRequest {
            capacity_offer: Some(newer),
            request_id: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!(updated.version, 2);
    let swept = core.sweep_update_requests(day("2028-01-03")?, 10).await?;
    assert_eq!((swept.lapsed_offers, swept.satisfied), (0, 1), "{swept:?}");
    let done = get_request(&mut mhi, &name).await?;
    assert_eq!(done.state, pb::UpdateRequestState::Satisfied as i32);
    assert!(done.answer.contains("version 2"), "{}", done.answer);
    Ok(())
}
