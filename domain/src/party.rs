//! Parties of the exchange and the caller of a request.

use serde::{Deserialize, Serialize};

use crate::vocab::{MilitaryDepartment, Nation, PartyId, PartyKind};

/// A registered participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Party {
    /// Stable id; also the certificate identity.
    pub id: PartyId,
    /// What kind of party.
    pub kind: PartyKind,
    /// Nation.
    pub nation: Nation,
    /// Military Department, for US organic parties.
    pub department: Option<MilitaryDepartment>,
    /// Human-readable name.
    pub display_name: String,
    /// Suspended parties are refused service.
    pub suspended: bool,
}

impl Party {
    /// Checks the rules a party must satisfy beyond its field types.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.id.is_reserved() {
            let why = format!("ids starting {:?} are reserved for the exchange's own actors", PartyId::RESERVED_PREFIX);
            return Err(("party_id", why));
        }
        if self.kind == PartyKind::Organic && self.nation != Nation::usa() {
            return Err(("nation", "an ORGANIC party is a US government depot: nation must be USA".into()));
        }
        if self.kind == PartyKind::Organic && self.department.is_none() {
            return Err(("department", "an ORGANIC party must name its Military Department".into()));
        }
        Ok(())
    }
}

/// The authenticated party a request acts for, as the registry knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The caller's party record.
    pub party: Party,
    /// SHA-256 fingerprint of the certificate presented, for the audit log.
    pub cert_fingerprint: String,
}

impl Caller {
    /// The caller's party id.
    pub fn id(&self) -> &PartyId {
        &self.party.id
    }

    /// Whether the caller is a coordinating office.
    pub fn is_coordinator(&self) -> bool {
        self.party.kind == PartyKind::Coordinator
    }
}
