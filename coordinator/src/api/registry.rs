//! `cosx.v1.Registry`: parties of the exchange.

use std::sync::Arc;

use cosx_domain::{PartyId, Violations};
use cosx_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::convert::{self, party_out};
use super::{authenticate, request_key, valid};
use crate::coordinator::Coordinator;

/// The Registry service.
pub struct RegistryService(pub Arc<Coordinator>);

fn party_name(v: &mut Violations, name: &str) -> Option<PartyId> {
    let id = name.strip_prefix("parties/").unwrap_or(name);
    v.check("name", PartyId::parse(id))
}

#[tonic::async_trait]
impl pb::registry_server::Registry for RegistryService {
    async fn get_party(&self, request: Request<pb::GetPartyRequest>) -> Result<Response<pb::Party>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let mut v = Violations::new();
        let id = party_name(&mut v, &request.get_ref().name);
        let id = valid(v, id)?;
        let (party, etag) = self.0.get_party(&caller, &id)?;
        Ok(Response::new(party_out(&party, etag)))
    }

    async fn list_parties(
        &self,
        request: Request<pb::ListPartiesRequest>,
    ) -> Result<Response<pb::ListPartiesResponse>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let kind = convert::optional_enum(&mut v, "kind", r.kind, convert::party_kind_in);
        valid(v, Some(()))?;
        let parties = self
            .0
            .list_parties(&caller)
            .into_iter()
            .filter(|(p, _)| kind.is_none_or(|k| p.kind == k) && (r.nation.is_empty() || p.nation.as_str() == r.nation))
            .map(|(p, etag)| party_out(&p, etag))
            .collect();
        Ok(Response::new(pb::ListPartiesResponse { parties, next_page_token: String::new() }))
    }

    async fn register_party(&self, request: Request<pb::RegisterPartyRequest>) -> Result<Response<pb::Party>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let party = convert::party_in(&mut v, &r.party);
        let party = valid(v, party)?;
        let key = request_key(&r.request_id, &r.party.clone().unwrap_or_default())?;
        let (party, etag) = self.0.register_party(&caller, party, &key).await?;
        Ok(Response::new(party_out(&party, etag)))
    }

    async fn suspend_party(&self, request: Request<pb::SuspendPartyRequest>) -> Result<Response<pb::Party>, Status> {
        let caller = authenticate(&self.0, &request)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let id = party_name(&mut v, &r.name);
        let etag = if r.etag.is_empty() {
            None
        } else {
            v.check("etag", r.etag.parse::<i64>().map_err(|_| "not an etag of this server"))
        };
        let id = valid(v, id)?;
        let (party, etag) = self.0.suspend_party(&caller, &id, etag).await?;
        Ok(Response::new(party_out(&party, etag)))
    }
}
