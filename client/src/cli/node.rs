//! `cosx node status|writes|webhooks`: what a party node holds for the
//! coordinator, and its parked webhook deliveries. Point `--endpoint` at the
//! node (`webhooks` also answers at the coordinator, for its own webhooks).

use cosx_proto::v1::node_client::NodeClient;
use cosx_proto::v1::webhooks_client::WebhooksClient;
use cosx_proto::v1::{
    EventKind, GetNodeStatusRequest, ListParkedDeliveriesRequest, ListWritesRequest, NodeStatus, ParkedDelivery,
    RetryParkedDeliveryRequest, Write, WriteState,
};

use super::NodeCommand;
use super::output::{Columns, Printer, time};
use crate::Client;
use crate::enums::display;
use crate::error::ClientError;

pub(crate) async fn run(client: &Client, cmd: NodeCommand, printer: &Printer) -> Result<(), ClientError> {
    let mut node = NodeClient::new(client.channel());
    match cmd {
        NodeCommand::Status => {
            let status = node.get_status(GetNodeStatusRequest {}).await?.into_inner();
            printer.record(&status)
        }
        NodeCommand::Writes { state, limit } => {
            let request = ListWritesRequest {
                state: state.map_or(0, Into::into),
                page_size: limit.map_or(0, |n| i32::try_from(n).unwrap_or(1000)),
                page_token: String::new(),
            };
            let writes = node.list_writes(request).await?.into_inner().writes;
            if writes.is_empty() && !printer.is_json() {
                eprintln!("no writes");
            }
            printer.records(&writes)
        }
        NodeCommand::Webhooks { retry: None, retry_all: false } => {
            let mut hooks = WebhooksClient::new(client.channel());
            let parked = hooks.list_parked_deliveries(ListParkedDeliveriesRequest {}).await?.into_inner();
            if parked.parked_deliveries.is_empty() && !printer.is_json() {
                eprintln!("no parked deliveries");
            }
            printer.records(&parked.parked_deliveries)
        }
        NodeCommand::Webhooks { retry, retry_all } => {
            let mut hooks = WebhooksClient::new(client.channel());
            let request = RetryParkedDeliveryRequest { webhook: retry.unwrap_or_default(), all: retry_all };
            let released = hooks.retry_parked_delivery(request).await?.into_inner().released;
            eprintln!("released {released} parked deliver{}", if released == 1 { "y" } else { "ies" });
            Ok(())
        }
    }
}

impl Columns for ParkedDelivery {
    fn columns(&self) -> Vec<(&'static str, String)> {
        vec![
            ("WEBHOOK", self.webhook.clone()),
            ("SEQ", self.sequence.to_string()),
            ("KIND", display::<EventKind>(self.kind)),
            ("ATTEMPTS", self.attempts.to_string()),
            ("PARKED", time(self.park_time.as_ref())),
            ("LAST ERROR", self.last_error.clone()),
        ]
    }
}

impl Columns for NodeStatus {
    fn columns(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PARTY", self.party.clone()),
            ("UPSTREAM", self.upstream.clone()),
            ("CONNECTED", if self.upstream_connected { "yes".into() } else { "no".into() }),
            ("QUEUED WRITES", self.queued_writes.to_string()),
            ("OLDEST QUEUED", format!("{:.1}s", self.oldest_queued_age_seconds)),
            ("REJECTED WRITES", self.rejected_writes.to_string()),
            ("DELIVERED WRITES", self.delivered_writes.to_string()),
            ("LAST SYNC", time(self.last_sync_time.as_ref())),
            ("SYNCED SEQUENCE", self.synced_sequence.to_string()),
            ("UPSTREAM HEAD", self.upstream_head.to_string()),
            ("FEED LAG", format!("{} events", self.feed_lag_events)),
            ("LAST ERROR", self.last_error.clone()),
        ]
    }
}

impl Columns for Write {
    fn columns(&self) -> Vec<(&'static str, String)> {
        let error = if self.error_code.is_empty() {
            String::new()
        } else {
            format!("{}: {}", self.error_code, self.error_message)
        };
        vec![
            ("SEQ", self.sequence.to_string()),
            ("STATE", display::<WriteState>(self.state)),
            ("METHOD", self.method.clone()),
            ("SUBJECT", self.subject.clone()),
            ("REQUEST ID", self.request_id.clone()),
            ("ATTEMPTS", self.attempts.to_string()),
            ("ACCEPTED", time(self.create_time.as_ref())),
            ("ERROR", error),
        ]
    }
}
