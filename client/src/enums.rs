//! Short, case-insensitive spellings of the API's enums for people typing
//! commands: `--state proposed` means `REPAIR_ORDER_STATE_PROPOSED`,
//! `--kind partner-government` means `PARTY_KIND_PARTNER_GOVERNMENT`.
//!
//! The full proto names are accepted too, so a value copied from `--json`
//! output works as a filter. `UNSPECIFIED` is never accepted: leaving a
//! filter out is how one asks for "any".

use cosx_proto::v1::{
    AvailabilityGrouping, BalanceStatus, CapacityOfferState, CapacityUnit, CommentState, CommentType, DisruptionCause,
    DisruptionState, EventKind, Granularity, MaintenanceLevel, MilitaryDepartment, PartyKind, QuoteKind, QuoteState,
    Region, RepairExceptionKind, RepairExceptionState, RepairOrderState, RepairProcess, RepairType, SyncState,
    SystemCategory, TimeUnit, UpdateRequestState, WriteState,
};

/// A generated proto enum whose value names share one prefix.
pub trait ProtoEnum: Copy + TryFrom<i32> + Into<i32> {
    /// The common prefix of the value names, e.g. `REGION_`.
    const PREFIX: &'static str;
    /// What the enum is called in messages, e.g. `region`.
    const NOUN: &'static str;
    /// The full proto name of this value.
    fn full_name(&self) -> &'static str;
}

macro_rules! proto_enum {
    ($($ty:ty => $prefix:literal, $noun:literal;)*) => {$(
        impl ProtoEnum for $ty {
            const PREFIX: &'static str = $prefix;
            const NOUN: &'static str = $noun;
            fn full_name(&self) -> &'static str {
                self.as_str_name()
            }
        }
    )*};
}

proto_enum! {
    RepairOrderState => "REPAIR_ORDER_STATE_", "repair order state";
    CapacityOfferState => "CAPACITY_OFFER_STATE_", "capacity offer state";
    Region => "REGION_", "region";
    PartyKind => "PARTY_KIND_", "party kind";
    MilitaryDepartment => "MILITARY_DEPARTMENT_", "military department";
    EventKind => "EVENT_KIND_", "event kind";
    MaintenanceLevel => "MAINTENANCE_LEVEL_", "maintenance level";
    RepairType => "REPAIR_TYPE_", "repair type";
    SystemCategory => "SYSTEM_CATEGORY_", "system category";
    CapacityUnit => "CAPACITY_UNIT_", "capacity unit";
    TimeUnit => "TIME_UNIT_", "time unit";
    AvailabilityGrouping => "AVAILABILITY_GROUPING_", "availability grouping";
    Granularity => "GRANULARITY_", "granularity";
    BalanceStatus => "BALANCE_STATUS_", "balance status";
    WriteState => "WRITE_STATE_", "write state";
    SyncState => "SYNC_STATE_", "sync state";
    QuoteState => "QUOTE_STATE_", "quote state";
    QuoteKind => "QUOTE_KIND_", "quote kind";
    RepairProcess => "REPAIR_PROCESS_", "repair process";
    RepairExceptionKind => "REPAIR_EXCEPTION_KIND_", "repair exception kind";
    RepairExceptionState => "REPAIR_EXCEPTION_STATE_", "repair exception state";
    CommentType => "COMMENT_TYPE_", "comment type";
    CommentState => "COMMENT_STATE_", "comment state";
    UpdateRequestState => "UPDATE_REQUEST_STATE_", "update request state";
    DisruptionCause => "DISRUPTION_CAUSE_", "disruption cause";
    DisruptionState => "DISRUPTION_STATE_", "disruption state";
}

/// Every specified value of `E`, in number order.
pub fn values<E: ProtoEnum>() -> Vec<E> {
    // Our enums are small and dense; 64 leaves room for growth.
    (1..64).filter_map(|n| E::try_from(n).ok()).collect()
}

/// The short name of a value: its full name without the prefix, e.g.
/// `PROPOSED` for `REPAIR_ORDER_STATE_PROPOSED`.
pub fn short_name<E: ProtoEnum>(value: E) -> &'static str {
    let full = value.full_name();
    full.strip_prefix(E::PREFIX).unwrap_or(full)
}

/// Short name of a raw wire value, `-` for unspecified and the number for a
/// value newer than this client.
pub fn display<E: ProtoEnum>(raw: i32) -> String {
    match E::try_from(raw) {
        Ok(_) if raw == 0 => "-".to_owned(),
        Ok(value) => short_name(value).to_owned(),
        Err(_) => raw.to_string(),
    }
}

/// Parses a short or full, case-insensitive spelling; `-`, `_` and spaces
/// are interchangeable (`air-force`, `AIR_FORCE`, `MILITARY_DEPARTMENT_AIR_FORCE`).
pub fn parse<E: ProtoEnum>(input: &str) -> Result<E, String> {
    let normalized: String =
        input.trim().chars().map(|c| if c == '-' || c == ' ' { '_' } else { c.to_ascii_uppercase() }).collect();
    let short = normalized.strip_prefix(E::PREFIX).unwrap_or(&normalized);
    values::<E>().into_iter().find(|v| short_name(*v) == short).ok_or_else(|| {
        let choices: Vec<String> =
            values::<E>().into_iter().map(|v| short_name(v).to_ascii_lowercase().replace('_', "-")).collect();
        format!("unknown {} {input:?}; expected one of: {}", E::NOUN, choices.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_are_case_insensitive() {
        assert_eq!(parse::<RepairOrderState>("proposed"), Ok(RepairOrderState::Proposed));
        assert_eq!(parse::<RepairOrderState>("Proposed"), Ok(RepairOrderState::Proposed));
        assert_eq!(parse::<Region>("indopacom"), Ok(Region::Indopacom));
    }

    #[test]
    fn dashes_stand_for_underscores() {
        assert_eq!(parse::<RepairOrderState>("awaiting-parts"), Ok(RepairOrderState::AwaitingParts));
        assert_eq!(parse::<PartyKind>("partner-government"), Ok(PartyKind::PartnerGovernment));
        assert_eq!(parse::<MilitaryDepartment>("air-force"), Ok(MilitaryDepartment::AirForce));
        assert_eq!(parse::<EventKind>("repair-order-created"), Ok(EventKind::RepairOrderCreated));
    }

    #[test]
    fn full_proto_names_are_accepted() {
        assert_eq!(parse::<MaintenanceLevel>("MAINTENANCE_LEVEL_DEPOT"), Ok(MaintenanceLevel::Depot));
        assert_eq!(parse::<Region>("region_eucom"), Ok(Region::Eucom));
    }

    #[test]
    fn unspecified_is_not_a_filter() {
        assert!(parse::<Region>("unspecified").is_err());
        assert!(parse::<Region>("REGION_UNSPECIFIED").is_err());
    }

    #[test]
    fn an_unknown_value_lists_the_choices() {
        let err = parse::<PartyKind>("vendor").expect_err("unknown");
        assert_eq!(
            err,
            "unknown party kind \"vendor\"; expected one of: organic, partner-government, contractor, coordinator"
        );
    }

    #[test]
    fn display_shortens_and_tolerates_unknown_values() {
        assert_eq!(display::<RepairOrderState>(2), "PROPOSED");
        assert_eq!(display::<RepairOrderState>(0), "-");
        assert_eq!(display::<RepairOrderState>(99), "99");
    }
}
