//! Quotes at a node: a provider's answer or revision, an owner's request
//! for quotes from named providers and its acceptance of one are checked
//! with the coordinator's parsing and rules (`cosx_domain::quotes`, through
//! `local`) against the quotes and the order in the replica, stored in the
//! outbox and answered; each is forwarded once, with its request id, after
//! the node's earlier writes to the same records. Reading passes through.
//!
//! What the node cannot know, it forwards and reports rather than guess:
//! whether a named provider is eligible for the order (allocation's rules
//! over every provider's offers, which only the coordinator holds), and
//! so whether the provider of an accepted quote may still be proposed the
//! order. A request that asks every eligible provider (`all_eligible`)
//! names no one the node could check or queue a quote for, so it passes
//! through (UNAVAILABLE while the link is down). What the coordinator
//! refuses shows in `Node.ListWrites` and on the order (a request and an
//! acceptance are ordered after the node's earlier writes to it).
//!
//! Thin handlers: never a rule of their own.

use cosx_domain::quotes::{self, MAX_QUOTE_PROVIDERS};
use cosx_edge::convert::{quote_name_in, quote_terms_in, resource_id};

use super::*;

/// Quotes at a node.
pub struct NodeQuotes(pub Arc<Node>);

type QuotesUpstream = pb::quotes_client::QuotesClient<tonic::transport::Channel>;

/// The quote `name` names, as the coordinator names it.
fn quote_subject(v: &mut Violations, name: &str) -> Option<String> {
    quote_name_in(v, "name", name)
        .map(|(order, provider)| format!("repairOrders/{}", quotes::quote_id(&order, &provider)))
}

/// The order a quote subject (`repairOrders/{order}/quotes/{provider}`) is on.
fn order_of(subject: &str) -> String {
    subject.split_once("/quotes/").map_or_else(|| subject.to_owned(), |(order, _)| order.to_owned())
}

fn quotes_of(views: Vec<View>) -> Vec<pb::Quote> {
    views
        .into_iter()
        .filter_map(|v| match v.record {
            Record::Quote(q) => Some(q),
            _ => None,
        })
        .collect()
}

fn find_order(related: &[View], subject: &str) -> Result<pb::RepairOrder, Status> {
    related
        .iter()
        .find_map(|v| match &v.record {
            Record::RepairOrder(o) if o.name == subject => Some(o.clone()),
            _ => None,
        })
        .ok_or_else(|| missing(subject))
}

#[tonic::async_trait]
impl pb::quotes_server::Quotes for NodeQuotes {
    async fn request_quotes(
        &self,
        request: Request<pb::RequestQuotesRequest>,
    ) -> Result<Response<pb::RequestQuotesResponse>, Status> {
        let n = &self.0;
        if request.get_ref().all_eligible {
            return pass_through!(self, request, QuotesUpstream, request_quotes);
        }
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let order = resource_id(&mut v, "name", &r.name, "repairOrders");
        if r.providers.is_empty() {
            v.add("providers", "name at least one provider, or set all_eligible");
        }
        if r.providers.len() > MAX_QUOTE_PROVIDERS {
            v.add("providers", format!("at most {MAX_QUOTE_PROVIDERS}, not {}", r.providers.len()));
        }
        let providers: Vec<PartyId> = r
            .providers
            .iter()
            .take(MAX_QUOTE_PROVIDERS)
            .enumerate()
            .filter_map(|(i, p)| v.check(&format!("providers[{i}]"), PartyId::parse(p)))
            .collect();
        for (i, p) in providers.iter().enumerate() {
            if providers[..i].contains(p) {
                v.add(format!("providers[{i}]"), format!("{p} is named twice"));
            }
        }
        let order = valid(v, order)?;
        let subject = format!("repairOrders/{order}");
        let up = pb::RequestQuotesRequest { request_id: request_id.clone(), name: subject.clone(), ..r };
        let coordinator = n.is_coordinator().await?;
        let me = n.party.clone();
        let answer = n
            .accept_visible(&request_id, &hash, Some(&subject), Some(&format!("{subject}/")), |current, related| {
                let order = held::<pb::RepairOrder>(current, &subject)?;
                let known = quotes_of(related);
                let asked = local::requested_quotes(&order, &known, &me, coordinator, &providers, Utc::now())?;
                let response = pb::RequestQuotesResponse { quotes: asked.clone() };
                // After the node's earlier writes to the order (its creation, say).
                Ok(Accepted::new(Method::RequestQuotes, &up, &response, asked.into_iter().map(Record::Quote).collect())
                    .after(vec![subject.clone()]))
            })
            .await?;
        Ok(Response::new(pb::RequestQuotesResponse::decode(answer.response.as_slice()).map_err(bad_message)?))
    }

    async fn submit_quote(&self, request: Request<pb::SubmitQuoteRequest>) -> Result<Response<pb::Quote>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let subject = quote_subject(&mut v, &r.name);
        let terms = quote_terms_in(&mut v, "terms", &r.terms);
        version_in(&mut v, "version", r.version, "quote");
        let (subject, terms) = valid(v, subject.zip(terms))?;
        let order_subject = order_of(&subject);
        let up = pb::SubmitQuoteRequest { request_id: request_id.clone(), name: subject.clone(), ..r.clone() };
        let record = n
            .write_related(&request_id, &hash, Some(&subject), Some(&order_subject), |current, related| {
                let quote = held::<pb::Quote>(current, &subject)?;
                let order = find_order(&related, &order_subject)?;
                let answered = local::submitted_quote(&order, &quote, &n.party, r.version, terms, Utc::now())?;
                Ok(Accepted::answering(Method::SubmitQuote, &up, answered))
            })
            .await?;
        Ok(Response::new(record_as!(record, Quote, subject)?))
    }

    async fn get_quote(&self, request: Request<pb::GetQuoteRequest>) -> Result<Response<pb::Quote>, Status> {
        pass_through!(self, request, QuotesUpstream, get_quote)
    }

    async fn list_quotes(
        &self,
        request: Request<pb::ListQuotesRequest>,
    ) -> Result<Response<pb::ListQuotesResponse>, Status> {
        pass_through!(self, request, QuotesUpstream, list_quotes)
    }

    async fn accept_quote(
        &self,
        request: Request<pb::AcceptQuoteRequest>,
    ) -> Result<Response<pb::AcceptQuoteResponse>, Status> {
        let n = &self.0;
        let (r, request_id, hash) = n.admit_write(request, |r| &r.request_id)?;
        let mut v = Violations::new();
        version_in(&mut v, "version", r.version, "quote");
        let subject = quote_subject(&mut v, &r.name);
        let subject = valid(v, subject)?;
        let order_subject = order_of(&subject);
        let up = pb::AcceptQuoteRequest { request_id: request_id.clone(), name: subject.clone(), ..r.clone() };
        let answer = n
            .accept_visible(&request_id, &hash, Some(&subject), Some(&order_subject), |current, related| {
                let quote = held::<pb::Quote>(current, &subject)?;
                let order = find_order(&related, &order_subject)?;
                let (accepted, proposed) = local::accepted_quote(&order, &quote, &n.party, r.version, Utc::now())?;
                let response =
                    pb::AcceptQuoteResponse { quote: Some(accepted.clone()), repair_order: Some(proposed.clone()) };
                Ok(Accepted::new(
                    Method::AcceptQuote,
                    &up,
                    &response,
                    vec![Record::Quote(accepted), Record::RepairOrder(proposed)],
                ))
            })
            .await?;
        Ok(Response::new(pb::AcceptQuoteResponse::decode(answer.response.as_slice()).map_err(bad_message)?))
    }
}
