//! `cosx.v1.Quotes`: asking for quotes on an order, answering them,
//! reading them and accepting one.
//!
//! A thin adapter: authenticate → parse (`cosx_edge::convert`) → the core
//! (`coordinator::quotes`, which applies `cosx_domain::quotes`) → map.
//! Never decides who may see or do what itself.

use std::sync::Arc;

use cosx_domain::{PartyId, Violations};
use cosx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::convert::*;
use super::{authenticate, authenticate_write};
use crate::coordinator::{Coordinator, QuoteTargets};
use crate::store::RecordFilter;
use cosx_edge::request::*;

/// The Quotes service.
pub struct QuotesService(pub Arc<Coordinator>);

/// The store id of the quote a request names (`{order}/quotes/{provider}`).
fn quote_id_in(name: &str) -> Result<String, Status> {
    let mut v = Violations::new();
    let parsed = quote_name_in(&mut v, "name", name);
    let (order, provider) = valid(v, parsed)?;
    Ok(cosx_domain::quotes::quote_id(&order, &provider))
}

#[tonic::async_trait]
impl pb::quotes_server::Quotes for QuotesService {
    async fn request_quotes(
        &self,
        request: Request<pb::RequestQuotesRequest>,
    ) -> Result<Response<pb::RequestQuotesResponse>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let order = resource_id(&mut v, "name", &r.name, "repairOrders");
        if r.providers.len() > cosx_domain::quotes::MAX_QUOTE_PROVIDERS {
            v.add(
                "providers",
                format!("at most {}, not {}", cosx_domain::quotes::MAX_QUOTE_PROVIDERS, r.providers.len()),
            );
        }
        let providers: Vec<PartyId> = r
            .providers
            .iter()
            .take(cosx_domain::quotes::MAX_QUOTE_PROVIDERS)
            .enumerate()
            .filter_map(|(i, p)| v.check(&format!("providers[{i}]"), PartyId::parse(p)))
            .collect();
        let targets = match (r.all_eligible, r.providers.is_empty()) {
            (true, true) => Some(QuoteTargets::AllEligible),
            (false, false) => Some(QuoteTargets::Named(providers)),
            (true, false) => {
                v.add("all_eligible", "name providers or ask every eligible provider, not both");
                None
            }
            (false, true) => {
                v.add("providers", "name at least one provider, or set all_eligible");
                None
            }
        };
        let (order, targets) = valid(v, order.zip(targets))?;
        let quotes = self.0.request_quotes(&caller, &order, targets, &key).await?;
        Ok(Response::new(pb::RequestQuotesResponse { quotes: quotes.iter().map(quote_out).collect() }))
    }

    async fn submit_quote(&self, request: Request<pb::SubmitQuoteRequest>) -> Result<Response<pb::Quote>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        let name = quote_name_in(&mut v, "name", &r.name);
        let terms = quote_terms_in(&mut v, "terms", &r.terms);
        version_in(&mut v, "version", r.version, "quote");
        let ((order, provider), terms) = valid(v, name.zip(terms))?;
        let id = cosx_domain::quotes::quote_id(&order, &provider);
        let quote = self.0.submit_quote(&caller, &id, r.version, terms, &key).await?;
        Ok(Response::new(quote_out(&quote)))
    }

    async fn get_quote(&self, request: Request<pb::GetQuoteRequest>) -> Result<Response<pb::Quote>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let id = quote_id_in(&request.get_ref().name)?;
        Ok(Response::new(quote_out(&self.0.get_quote(&caller, &id).await?)))
    }

    async fn list_quotes(
        &self,
        request: Request<pb::ListQuotesRequest>,
    ) -> Result<Response<pb::ListQuotesResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let order = match r.parent.as_str() {
            "repairOrders/-" | "-" | "" => None,
            parent => resource_id(&mut v, "parent", parent, "repairOrders"),
        };
        let state = optional_enum(&mut v, "state", r.state, quote_state_in);
        let provider = if r.provider.is_empty() { None } else { v.check("provider", PartyId::parse(&r.provider)) };
        valid(v, Some(()))?;
        let filter = RecordFilter {
            state: state.map(|s| s.as_str().to_owned()),
            provider: provider.map(|p| p.to_string()),
            ..RecordFilter::default()
        };
        let page = self.0.list_quotes(&caller, order.as_deref(), filter, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListQuotesResponse {
            quotes: page.items.iter().map(quote_out).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn accept_quote(
        &self,
        request: Request<pb::AcceptQuoteRequest>,
    ) -> Result<Response<pb::AcceptQuoteResponse>, Status> {
        let (caller, r, key) = authenticate_write(&self.0, &request, |r| &r.request_id)?;
        let mut v = Violations::new();
        version_in(&mut v, "version", r.version, "quote");
        valid(v, Some(()))?;
        let id = quote_id_in(&r.name)?;
        let (quote, order) = self.0.accept_quote(&caller, &id, r.version, &key).await?;
        Ok(Response::new(pb::AcceptQuoteResponse {
            quote: Some(quote_out(&quote)),
            repair_order: Some(repair_order_out(&order)),
        }))
    }
}
