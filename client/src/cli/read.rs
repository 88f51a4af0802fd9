//! `cosx get NAME` and `cosx list ...`: reading records, dispatching on the
//! resource-name prefix and following page tokens when asked.
//!
//! Without `--all` one page is printed and, if there is more, the token to
//! continue from is printed to standard error, never mixed into the output.

use cosx_proto::v1::{
    GetAvailabilityReportRequest, GetCapacityOfferRequest, GetPartyRequest, GetRepairOrderRequest,
    ListAvailabilityReportsRequest, ListCapacityOffersRequest, ListPartiesRequest, ListRepairOrdersRequest,
};
use serde::Serialize;

use super::output::{Columns, Printer};
use super::{ListCommand, PageArgs};
use crate::Client;
use crate::error::ClientError;

/// The kinds of resource a name can denote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    RepairOrder,
    CapacityOffer,
    AvailabilityReport,
    Party,
}

/// Tells which kind of record `name` denotes by its collection prefix.
pub(crate) fn resource_of(name: &str) -> Result<Resource, ClientError> {
    let (collection, id) = name.split_once('/').unwrap_or((name, ""));
    let resource = match collection {
        "repairOrders" => Resource::RepairOrder,
        "capacityOffers" => Resource::CapacityOffer,
        "availabilityReports" => Resource::AvailabilityReport,
        "parties" => Resource::Party,
        _ => {
            return Err(ClientError::Usage(format!(
                "cannot tell what {name:?} names: expected repairOrders/ID, capacityOffers/ID, \
                 availabilityReports/ID or parties/ID"
            )));
        }
    };
    if id.is_empty() {
        return Err(ClientError::Usage(format!("{name:?} has no id after the '/'")));
    }
    Ok(resource)
}

pub(crate) async fn get(client: &Client, name: &str, printer: &Printer) -> Result<(), ClientError> {
    let name = name.to_owned();
    match resource_of(&name)? {
        Resource::RepairOrder => {
            let r = client.exchange().get_repair_order(GetRepairOrderRequest { name }).await?;
            printer.record(r.get_ref())
        }
        Resource::CapacityOffer => {
            let r = client.exchange().get_capacity_offer(GetCapacityOfferRequest { name }).await?;
            printer.record(r.get_ref())
        }
        Resource::AvailabilityReport => {
            let r = client.exchange().get_availability_report(GetAvailabilityReportRequest { name }).await?;
            printer.record(r.get_ref())
        }
        Resource::Party => {
            let r = client.registry().get_party(GetPartyRequest { name }).await?;
            printer.record(r.get_ref())
        }
    }
}

/// Collects one page (or all pages) of a listing: in JSON mode each page is
/// printed as it arrives; tables are printed once, aligned over all rows.
struct Pager<'a, T> {
    printer: &'a Printer,
    page: PageArgs,
    rows: Vec<T>,
}

impl<'a, T: Serialize + Columns> Pager<'a, T> {
    fn new(printer: &'a Printer, page: PageArgs) -> Self {
        Pager { printer, page, rows: Vec::new() }
    }

    fn page_size(&self) -> i32 {
        self.page.page_size.unwrap_or(0)
    }

    /// Takes a page; returns the token to fetch next, if any should be.
    fn take(&mut self, records: Vec<T>, next: String) -> Result<Option<String>, ClientError> {
        if self.printer.is_json() {
            self.printer.records(&records)?;
        } else {
            self.rows.extend(records);
        }
        if next.is_empty() {
            return Ok(None);
        }
        if self.page.all {
            return Ok(Some(next));
        }
        eprintln!("more records: continue with --page-token {next}, or use --all");
        Ok(None)
    }

    fn finish(self) -> Result<(), ClientError> {
        if self.printer.is_json() {
            return Ok(());
        }
        if self.rows.is_empty() {
            eprintln!("no records");
            return Ok(());
        }
        self.printer.records(&self.rows)
    }
}

/// Every item of a listing, page after page: `page` fetches the page at a
/// token (empty: the first) and returns its items and the next token (empty:
/// there is no more). For commands that always print everything.
pub(crate) async fn every_page<T>(
    mut page: impl AsyncFnMut(String) -> Result<(Vec<T>, String), ClientError>,
) -> Result<Vec<T>, ClientError> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = page(token).await?;
        all.extend(items);
        if next.is_empty() {
            return Ok(all);
        }
        token = next;
    }
}

pub(crate) async fn list(client: &Client, cmd: ListCommand, printer: &Printer) -> Result<(), ClientError> {
    match cmd {
        ListCommand::Orders { state, tms, originator, provider, region, page } => {
            let mut token = page.page_token.clone().unwrap_or_default();
            let mut pager = Pager::new(printer, page);
            loop {
                let req = ListRepairOrdersRequest {
                    page_size: pager.page_size(),
                    page_token: token,
                    state: state.map_or(0, Into::into),
                    tms: tms.clone().unwrap_or_default(),
                    originator: originator.clone().unwrap_or_default(),
                    provider: provider.clone().unwrap_or_default(),
                    region: region.map_or(0, Into::into),
                };
                let resp = client.exchange().list_repair_orders(req).await?.into_inner();
                match pager.take(resp.repair_orders, resp.next_page_token)? {
                    Some(next) => token = next,
                    None => break,
                }
            }
            pager.finish()
        }
        ListCommand::Offers { state, tms, provider, region, page } => {
            let mut token = page.page_token.clone().unwrap_or_default();
            let mut pager = Pager::new(printer, page);
            loop {
                let req = ListCapacityOffersRequest {
                    page_size: pager.page_size(),
                    page_token: token,
                    provider: provider.clone().unwrap_or_default(),
                    state: state.map_or(0, Into::into),
                    tms: tms.clone().unwrap_or_default(),
                    region: region.map_or(0, Into::into),
                };
                let resp = client.exchange().list_capacity_offers(req).await?.into_inner();
                match pager.take(resp.capacity_offers, resp.next_page_token)? {
                    Some(next) => token = next,
                    None => break,
                }
            }
            pager.finish()
        }
        ListCommand::Reports { reporter, tms, include_superseded, page } => {
            let mut token = page.page_token.clone().unwrap_or_default();
            let mut pager = Pager::new(printer, page);
            loop {
                let req = ListAvailabilityReportsRequest {
                    page_size: pager.page_size(),
                    page_token: token,
                    reporter: reporter.clone().unwrap_or_default(),
                    tms: tms.clone().unwrap_or_default(),
                    include_superseded,
                };
                let resp = client.exchange().list_availability_reports(req).await?.into_inner();
                match pager.take(resp.availability_reports, resp.next_page_token)? {
                    Some(next) => token = next,
                    None => break,
                }
            }
            pager.finish()
        }
        ListCommand::Parties { kind, nation, page } => {
            let mut token = page.page_token.clone().unwrap_or_default();
            let mut pager = Pager::new(printer, page);
            loop {
                let req = ListPartiesRequest {
                    page_size: pager.page_size(),
                    page_token: token,
                    kind: kind.map_or(0, Into::into),
                    nation: nation.clone().unwrap_or_default(),
                };
                let resp = client.registry().list_parties(req).await?.into_inner();
                match pager.take(resp.parties, resp.next_page_token)? {
                    Some(next) => token = next,
                    None => break,
                }
            }
            pager.finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_dispatch_by_collection() {
        assert_eq!(resource_of("repairOrders/42").ok(), Some(Resource::RepairOrder));
        assert_eq!(resource_of("capacityOffers/a1").ok(), Some(Resource::CapacityOffer));
        assert_eq!(resource_of("availabilityReports/7").ok(), Some(Resource::AvailabilityReport));
        assert_eq!(resource_of("parties/JPN-MHI-KOMAKI").ok(), Some(Resource::Party));
    }

    #[test]
    fn an_unknown_collection_lists_the_known_ones() {
        let err = resource_of("orders/42").expect_err("unknown");
        assert!(err.to_string().contains("expected repairOrders/ID"), "{err}");
        assert!(resource_of("42").is_err());
        assert!(resource_of("repairOrders/").is_err());
    }
}
