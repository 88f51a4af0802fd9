//! Comments on the records a party may see (Catena-X DCM "comments"): a
//! repair order, a capacity offer or an availability report — and, for
//! coordinators only, a demand cell ([`DemandCell`]: region × TMS or
//! component family × maintenance level × month) — each with a
//! type (information, warning, action required), optional reference dates
//! and a text of 1 to [`MAX_COMMENT_TEXT`] characters. Only the author edits
//! (a new version, the earlier ones kept in the comment) or withdraws it.
//!
//! A comment has no visibility of its own: whoever may see the commented
//! record (`visibility::may_see`, applied by the record's own read path)
//! sees its comments, and nobody else learns they exist. A demand cell is
//! no record: [`DemandCell::visible_to`] is its rule (coordinators only,
//! as a party's demand view withholds cells and names no one's orders). These are the
//! write rules the coordinator applies; pure: no I/O, no clock read.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::party::Party;
use crate::vocab::{MaintenanceLevel, PartyId, PartyKind, Region};

/// Most characters of a comment's text.
pub const MAX_COMMENT_TEXT: usize = crate::limits::MAX_LONG_TEXT;
/// Most reference dates one comment carries.
pub const MAX_REFERENCE_DATES: usize = 16;
/// Most versions one comment keeps (its current one and the earlier ones):
/// 20 × 5,000 characters stays well inside one event.
pub const MAX_COMMENT_VERSIONS: usize = 20;

/// What a comment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommentType {
    /// For information.
    Information,
    /// A warning the reader should heed.
    Warning,
    /// The reader is asked to act.
    ActionRequired,
}

/// Whether a comment still stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommentState {
    /// Shown and editable by its author.
    Active,
    /// Withdrawn by its author; kept, never edited again.
    Withdrawn,
}

impl CommentState {
    /// The state's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CommentState::Active => "ACTIVE",
            CommentState::Withdrawn => "WITHDRAWN",
        }
    }
}

/// A record that may be commented on (or asked to be updated), by its
/// collection and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "collection", content = "id", rename_all = "camelCase")]
pub enum RecordRef {
    /// `repairOrders/{id}`.
    RepairOrders(String),
    /// `capacityOffers/{id}`.
    CapacityOffers(String),
    /// `availabilityReports/{id}`.
    AvailabilityReports(String),
    /// `demandCells/{id}`, the id a [`DemandCell`]'s ([`DemandCell::id`]).
    DemandCells(String),
}

impl RecordRef {
    /// The collections that may be commented on, as they start a resource name.
    pub const COLLECTIONS: [&'static str; 4] = ["repairOrders", "capacityOffers", "availabilityReports", "demandCells"];

    /// The record in `collection` with `id` (already a valid resource id;
    /// a demand cell's must be one [`DemandCell::id`] gives).
    pub fn new(collection: &str, id: String) -> Option<RecordRef> {
        match collection {
            "repairOrders" => Some(RecordRef::RepairOrders(id)),
            "capacityOffers" => Some(RecordRef::CapacityOffers(id)),
            "availabilityReports" => Some(RecordRef::AvailabilityReports(id)),
            "demandCells" => DemandCell::from_id(&id).ok().map(|c| RecordRef::DemandCells(c.id())),
            _ => None,
        }
    }

    /// The collection.
    pub fn collection(&self) -> &'static str {
        match self {
            RecordRef::RepairOrders(_) => "repairOrders",
            RecordRef::CapacityOffers(_) => "capacityOffers",
            RecordRef::AvailabilityReports(_) => "availabilityReports",
            RecordRef::DemandCells(_) => "demandCells",
        }
    }

    /// The record's id.
    pub fn id(&self) -> &str {
        match self {
            RecordRef::RepairOrders(id)
            | RecordRef::CapacityOffers(id)
            | RecordRef::AvailabilityReports(id)
            | RecordRef::DemandCells(id) => id,
        }
    }

    /// The record's resource name, `{collection}/{id}`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.collection(), self.id())
    }
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Most characters of a demand cell's TMS or component family label.
pub const MAX_CELL_LABEL: usize = 64;

/// A cell of the demand cube a coordinator comments on: region × TMS or
/// component family × maintenance level × month (the breakdowns by owner
/// nation and repair type are views of it, not cells of their own).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DemandCell {
    /// Combatant command area.
    pub region: Region,
    /// TMS or component family, as the demand signal labels it.
    pub tms_or_family: String,
    /// Maintenance level.
    pub level: MaintenanceLevel,
    /// First day of the month.
    pub month: NaiveDate,
}

/// Whether a label byte stands for itself in a cell's id.
fn plain(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'
}

impl DemandCell {
    /// Parses a label: 1 to [`MAX_CELL_LABEL`] characters, not only
    /// blanks, no control characters (labels are TMS designators or
    /// component families, as orders give them).
    pub fn parse_label(s: &str) -> Result<String, String> {
        let chars = s.chars().count();
        if s.trim().is_empty() {
            Err("is required: the TMS or component family of the cell".into())
        } else if chars > MAX_CELL_LABEL {
            Err(format!("too long: {chars} characters, at most {MAX_CELL_LABEL}"))
        } else if s.chars().any(char::is_control) {
            Err("must not contain control characters".into())
        } else {
            Ok(s.to_owned())
        }
    }

    /// Parses a month `YYYY-MM` (2000 to 2100) to its first day.
    pub fn parse_month(s: &str) -> Result<NaiveDate, String> {
        NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
            .ok()
            .filter(|d| s.len() == 7 && (2000..=2100).contains(&chrono::Datelike::year(d)))
            .ok_or_else(|| format!("{s:?}: expected a month YYYY-MM between 2000 and 2100"))
    }

    /// The cell's id: `{REGION}.{LEVEL}.{YYYY-MM}.{label}`, the label's
    /// bytes other than `A-Z 0-9 -` written `.XX` (upper-case hex), so the
    /// id is one resource-name segment and each cell has exactly one.
    pub fn id(&self) -> String {
        let mut label = String::new();
        for b in self.tms_or_family.bytes() {
            if plain(b) {
                label.push(char::from(b));
            } else {
                label.push_str(&format!(".{b:02X}"));
            }
        }
        format!("{}.{}.{}.{label}", self.region.as_str(), self.level.as_str(), self.month.format("%Y-%m"))
    }

    /// The cell an id names: exactly the id [`DemandCell::id`] gives it.
    pub fn from_id(id: &str) -> Result<DemandCell, String> {
        let bad = || format!("{id:?}: expected REGION.LEVEL.YYYY-MM.LABEL, e.g. INDOPACOM.DEPOT.2027-03.F-35A");
        let mut parts = id.splitn(4, '.');
        let (Some(region), Some(level), Some(month), Some(encoded)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let region: Region = region.parse().map_err(|_| bad())?;
        let level: MaintenanceLevel = level.parse().map_err(|_| bad())?;
        let month = Self::parse_month(month).map_err(|_| bad())?;
        let (mut bytes, raw) = (Vec::new(), encoded.as_bytes());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'.' {
                let hex = raw.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).ok_or_else(bad)?;
                bytes.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 3;
            } else {
                bytes.push(raw[i]);
                i += 1;
            }
        }
        let label = String::from_utf8(bytes).map_err(|_| bad())?;
        let cell = DemandCell { region, tms_or_family: Self::parse_label(&label).map_err(|_| bad())?, level, month };
        // One spelling per cell: no escaped plain byte, no lower-case hex.
        if cell.id() == id { Ok(cell) } else { Err(bad()) }
    }

    /// Who may comment on a demand cell and see its comments: coordinators
    /// only (a party's demand view withholds cells built from few orders,
    /// and comments on a cell would speak of them).
    pub fn visible_to(viewer: &Party) -> bool {
        viewer.kind == PartyKind::Coordinator
    }
}

/// What an author writes: type, reference dates and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentBody {
    /// Information, warning or action required.
    pub comment_type: CommentType,
    /// Dates the comment refers to (a slip, a window), in order, none repeated.
    pub reference_dates: Vec<NaiveDate>,
    /// 1 to [`MAX_COMMENT_TEXT`] characters.
    pub text: String,
}

/// An earlier version of a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentVersion {
    /// Its version number.
    pub version: i64,
    /// What it said.
    pub body: CommentBody,
    /// When it was written.
    pub time: DateTime<Utc>,
}

/// A comment as the coordinator holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// `{collection}/{record}/comments/{comment}`: also its resource name.
    pub id: String,
    /// The record commented on.
    pub record: RecordRef,
    /// Who wrote it; the only party that edits or withdraws it.
    pub author: PartyId,
    /// The current version's content.
    pub body: CommentBody,
    /// Active or withdrawn.
    pub state: CommentState,
    /// Version, +1 on every change.
    pub version: i64,
    /// Earlier versions, oldest first.
    pub earlier: Vec<CommentVersion>,
    /// Written.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

/// The id (and resource name) of comment `name` on `record`.
pub fn comment_id(record: &RecordRef, name: &str) -> String {
    format!("{}/comments/{name}", record.name())
}

/// The id prefix shared by every comment on `record` (for listing them).
pub fn comments_of(record: &RecordRef) -> String {
    format!("{}/comments/", record.name())
}

/// What a listing of comments covers: one record's (or one demand cell's),
/// or those on every level and month of one region and TMS or component
/// family, the series a demand cell's chart shows (coordinators only, as
/// every demand cell is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commented {
    /// One record or demand cell.
    Record(RecordRef),
    /// Every demand cell of `region` labelled `tms_or_family`.
    CellSeries {
        /// Combatant command area.
        region: Region,
        /// TMS or component family.
        tms_or_family: String,
    },
}

impl Commented {
    /// The id prefix every comment of the listing starts with; a series'
    /// (the region's cells) is wider than the listing, see [`Commented::covers`].
    pub fn id_prefix(&self) -> String {
        match self {
            Commented::Record(record) => comments_of(record),
            Commented::CellSeries { region, .. } => format!("demandCells/{}.", region.as_str()),
        }
    }

    /// Whether the listing includes comment `c`.
    pub fn covers(&self, c: &Comment) -> bool {
        match (self, &c.record) {
            (Commented::Record(record), on) => record == on,
            (Commented::CellSeries { region, tms_or_family }, RecordRef::DemandCells(id)) => {
                DemandCell::from_id(id).is_ok_and(|cell| cell.region == *region && cell.tms_or_family == *tms_or_family)
            }
            (Commented::CellSeries { .. }, _) => false,
        }
    }
}

/// Parses a comment's text: 1 to [`MAX_COMMENT_TEXT`] characters, not only
/// blanks, no control characters other than newlines and tabs (the one
/// long-text check, `limits::required_long_text`).
pub fn parse_text(s: &str) -> Result<String, String> {
    crate::limits::required_long_text(s)
}

/// Puts reference dates in order, refusing repeats and more than
/// [`MAX_REFERENCE_DATES`].
pub fn reference_dates(mut dates: Vec<NaiveDate>) -> Result<Vec<NaiveDate>, String> {
    if dates.len() > MAX_REFERENCE_DATES {
        return Err(format!("at most {MAX_REFERENCE_DATES}, not {}", dates.len()));
    }
    dates.sort();
    if let Some(w) = dates.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("{} is given twice", w[0]));
    }
    Ok(dates)
}

/// Why a comment change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentError {
    /// Only the author edits or withdraws a comment.
    NotTheAuthor(PartyId),
    /// A withdrawn comment changes no more.
    Withdrawn,
    /// The comment keeps at most [`MAX_COMMENT_VERSIONS`] versions.
    TooManyVersions,
    /// The edit changes nothing.
    Unchanged,
}

impl fmt::Display for CommentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommentError::NotTheAuthor(a) => write!(f, "only its author ({a}) may edit or withdraw a comment"),
            CommentError::Withdrawn => f.write_str("the comment was withdrawn; it can no longer change"),
            CommentError::TooManyVersions => {
                write!(f, "the comment already has {MAX_COMMENT_VERSIONS} versions; add a new comment instead")
            }
            CommentError::Unchanged => f.write_str("the edit is the comment's current text, type and dates"),
        }
    }
}

impl Comment {
    /// A new comment by `author` on `record`.
    pub fn written(record: RecordRef, name: &str, author: &PartyId, body: CommentBody, time: DateTime<Utc>) -> Comment {
        Comment {
            id: comment_id(&record, name),
            record,
            author: author.clone(),
            body,
            state: CommentState::Active,
            version: 1,
            earlier: vec![],
            create_time: time,
            update_time: time,
        }
    }
}

fn check_author(comment: &Comment, caller: &PartyId) -> Result<(), CommentError> {
    if caller != &comment.author {
        return Err(CommentError::NotTheAuthor(comment.author.clone()));
    }
    if comment.state == CommentState::Withdrawn {
        return Err(CommentError::Withdrawn);
    }
    Ok(())
}

/// The comment after `caller` edits it to `body` at `time`: a new version,
/// the current one kept among the earlier versions.
pub fn edit(
    comment: &Comment,
    caller: &PartyId,
    body: CommentBody,
    time: DateTime<Utc>,
) -> Result<Comment, CommentError> {
    check_author(comment, caller)?;
    if body == comment.body {
        return Err(CommentError::Unchanged);
    }
    if comment.earlier.len() + 1 >= MAX_COMMENT_VERSIONS {
        return Err(CommentError::TooManyVersions);
    }
    let mut next = comment.clone();
    next.earlier.push(CommentVersion {
        version: comment.version,
        body: comment.body.clone(),
        time: comment.update_time,
    });
    next.body = body;
    next.version += 1;
    next.update_time = time;
    Ok(next)
}

/// The comment after `caller` withdraws it at `time` (its text is kept).
pub fn withdraw(comment: &Comment, caller: &PartyId, time: DateTime<Utc>) -> Result<Comment, CommentError> {
    check_author(comment, caller)?;
    let mut next = comment.clone();
    next.state = CommentState::Withdrawn;
    next.version += 1;
    next.update_time = time;
    Ok(next)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn id(s: &str) -> PartyId {
        PartyId::parse(s).unwrap()
    }

    fn body(text: &str) -> CommentBody {
        CommentBody { comment_type: CommentType::Warning, reference_dates: vec![], text: text.into() }
    }

    fn comment() -> Comment {
        let record = RecordRef::RepairOrders("US-USAF-OOALC.o-1".into());
        Comment::written(record, "c1", &id("JPN-MHI-KOMAKI"), body("Seal kit on back order."), Utc::now())
    }

    #[test]
    fn a_comment_is_named_under_its_record() {
        let c = comment();
        assert_eq!(c.id, "repairOrders/US-USAF-OOALC.o-1/comments/c1");
        assert!(c.id.starts_with(&comments_of(&c.record)));
        let other = RecordRef::CapacityOffers("US-USAF-OOALC.o-1".into());
        assert!(!c.id.starts_with(&comments_of(&other)), "an offer with the same id has other comments");
        assert_eq!(RecordRef::new("availabilityReports", "r".into()).unwrap().name(), "availabilityReports/r");
        assert_eq!(RecordRef::new("quotes", "r".into()), None);
    }

    #[test]
    fn a_demand_cell_has_exactly_one_id_and_every_label_fits_in_it() {
        let cell = DemandCell {
            region: Region::Indopacom,
            tms_or_family: "F/A-18E".into(),
            level: MaintenanceLevel::Depot,
            month: "2027-03-01".parse().unwrap(),
        };
        assert_eq!(cell.id(), "INDOPACOM.DEPOT.2027-03.F.2FA-18E");
        assert_eq!(DemandCell::from_id(&cell.id()).unwrap(), cell);
        let family = DemandCell { tms_or_family: "Avionics LRU.é".into(), ..cell.clone() };
        assert_eq!(DemandCell::from_id(&family.id()).unwrap(), family);
        let r = RecordRef::new("demandCells", "EUCOM.INTERMEDIATE.2026-12.F-16C".into()).unwrap();
        assert_eq!(r.name(), "demandCells/EUCOM.INTERMEDIATE.2026-12.F-16C");
        for bad in [
            "INDOPACOM.DEPOT.2027-03",
            "MARS.DEPOT.2027-03.F-35A",
            "INDOPACOM.FIELD.2027-03.F-35A",
            "INDOPACOM.DEPOT.2027-3.F-35A",
            "INDOPACOM.DEPOT.2027-13.F-35A",
            "INDOPACOM.DEPOT.2027-03.",
            "INDOPACOM.DEPOT.2027-03.F.2fA-18E",
            "INDOPACOM.DEPOT.2027-03.F.41",
            "INDOPACOM.DEPOT.2027-03.F.2",
            "INDOPACOM.DEPOT.2027-03.f-35a",
            "INDOPACOM.DEPOT.2027-03..07",
        ] {
            assert!(DemandCell::from_id(bad).is_err(), "{bad}");
            assert_eq!(RecordRef::new("demandCells", bad.into()), None, "{bad}");
        }
        assert!(DemandCell::parse_label(&"X".repeat(MAX_CELL_LABEL + 1)).is_err());
        assert!(DemandCell::parse_month("2101-01").is_err());
    }

    #[test]
    fn text_is_one_to_five_thousand_characters() {
        assert!(parse_text("x").is_ok());
        assert!(parse_text(&"é".repeat(MAX_COMMENT_TEXT)).is_ok(), "characters, not bytes");
        assert!(parse_text(&"x".repeat(MAX_COMMENT_TEXT + 1)).unwrap_err().contains("5001"));
        assert!(parse_text("").is_err());
        assert!(parse_text(" \n\t").is_err());
        assert!(parse_text("bell\u{7}").is_err());
        assert!(parse_text("line one\nline two\tend").is_ok());
    }

    #[test]
    fn reference_dates_are_sorted_and_never_repeated() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            reference_dates(vec![d("2027-03-01"), d("2027-01-15")]).unwrap(),
            vec![d("2027-01-15"), d("2027-03-01")]
        );
        assert!(reference_dates(vec![d("2027-01-15"), d("2027-01-15")]).is_err());
        assert!(reference_dates(vec![d("2027-01-15"); MAX_REFERENCE_DATES + 1]).is_err());
    }

    #[test]
    fn only_the_author_edits_and_every_edit_keeps_the_earlier_version() {
        let c = comment();
        let later = c.create_time + chrono::Duration::minutes(5);
        let edited = edit(&c, &c.author, body("Seal kit arrives 2027-02-01."), later).unwrap();
        assert_eq!(edited.version, 2);
        assert_eq!(edited.body.text, "Seal kit arrives 2027-02-01.");
        assert_eq!(edited.earlier, vec![CommentVersion { version: 1, body: c.body.clone(), time: c.update_time }]);
        assert_eq!(edited.update_time, later);
        assert_eq!(
            edit(&c, &id("KOR-KAI-SACHEON"), body("mine now"), later),
            Err(CommentError::NotTheAuthor(c.author.clone()))
        );
        assert_eq!(edit(&c, &c.author, c.body.clone(), later), Err(CommentError::Unchanged));
    }

    #[test]
    fn a_withdrawn_comment_never_changes_again() {
        let c = comment();
        let now = Utc::now();
        assert_eq!(withdraw(&c, &id("US-INDOPACOM-J4"), now), Err(CommentError::NotTheAuthor(c.author.clone())));
        let gone = withdraw(&c, &c.author, now).unwrap();
        assert_eq!((gone.state, gone.version, gone.body.clone()), (CommentState::Withdrawn, 2, c.body.clone()));
        assert_eq!(edit(&gone, &c.author, body("back"), now), Err(CommentError::Withdrawn));
        assert_eq!(withdraw(&gone, &c.author, now), Err(CommentError::Withdrawn));
    }

    #[test]
    fn a_comment_keeps_a_bounded_number_of_versions() {
        let mut c = comment();
        let now = Utc::now();
        for n in 1..MAX_COMMENT_VERSIONS {
            c = edit(&c, &c.author.clone(), body(&format!("revision {n}")), now).unwrap();
        }
        assert_eq!(c.version as usize, MAX_COMMENT_VERSIONS);
        assert_eq!(c.earlier.len(), MAX_COMMENT_VERSIONS - 1);
        assert_eq!(edit(&c, &c.author.clone(), body("one more"), now), Err(CommentError::TooManyVersions));
    }
}
