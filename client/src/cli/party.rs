//! `cosx party register|suspend`: the coordinator's registry commands.
//!
//! Whether the caller may register or suspend is the server's decision
//! (coordinators only); the client only builds the request.

use cosx_proto::v1::{Party, RegisterPartyRequest, SuspendPartyRequest};

use super::output::Printer;
use super::{PartyCommand, fresh_request_id};
use crate::Client;
use crate::error::ClientError;

pub(crate) async fn run(client: &Client, cmd: PartyCommand, printer: &Printer) -> Result<(), ClientError> {
    let party = match cmd {
        PartyCommand::Register { id, kind, nation, department, display_name, request_id } => {
            let req = RegisterPartyRequest {
                party: Some(Party {
                    party_id: id,
                    kind: kind.into(),
                    nation,
                    department: department.map_or(0, Into::into),
                    display_name: display_name.unwrap_or_default(),
                    ..Party::default()
                }),
                request_id: request_id.unwrap_or_else(fresh_request_id),
            };
            client.registry().register_party(req).await?.into_inner()
        }
        PartyCommand::Suspend { id, reason, etag } => {
            let req = SuspendPartyRequest { name: party_name(&id), reason, etag: etag.unwrap_or_default() };
            client.registry().suspend_party(req).await?.into_inner()
        }
    };
    printer.record(&party)
}

/// `parties/ID` for a bare id; a full name is kept as given.
pub(crate) fn party_name(id: &str) -> String {
    if id.starts_with("parties/") { id.to_owned() } else { format!("parties/{id}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_party_ids_become_resource_names() {
        assert_eq!(party_name("KOR-KAI-SACHEON"), "parties/KOR-KAI-SACHEON");
        assert_eq!(party_name("parties/KOR-KAI-SACHEON"), "parties/KOR-KAI-SACHEON");
    }
}
