//! The deliverer: for each webhook, subscribe to `Feed.Subscribe` as the
//! configured party from the webhook's cursor, and POST each event, in
//! sequence order, until its endpoint answers 2xx; then move the cursor.
//!
//! Failures of the feed link are waited out (they are not delivery attempts).
//! Failed attempts back off exponentially with full jitter; after
//! `max_attempts`, or at once on a refusal (3xx, 4xx but 408/429), the
//! delivery is parked and the webhook waits until it is retried. Any store
//! error restarts the webhook from its durable cursor: an event may then be
//! sent twice, never skipped. The deliverer never reads a database of
//! records: what it sends is exactly what the party's feed shows it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cosx_client::Client;
use cosx_proto::v1::{Event, EventKind, SubscribeRequest};
use rand::Rng;
use tokio::sync::watch;

use crate::config::{FeedIdentity, WebhookConfig};
use crate::error::WebhookError;
use crate::http::{Endpoint, Outcome, parse_url};
use crate::signature::sign;
use crate::store::{CursorStore, ParkedDelivery};

/// Smallest accepted secret, in bytes.
const MIN_SECRET: usize = 16;

/// A webhook whose configuration has been checked and whose files are read.
pub struct Webhook {
    config: WebhookConfig,
    kinds: Vec<i32>,
    secret: Vec<u8>,
    roots: Option<rustls::RootCertStore>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("Webhook").field("name", &self.config.name).field("url", &self.config.url).finish()
    }
}

/// Parses an event kind as written in the config: `REPAIR_ORDER_CREATED` or
/// `EVENT_KIND_REPAIR_ORDER_CREATED`. Checkpoints are not events.
pub fn parse_kind(text: &str) -> Option<EventKind> {
    let name = text.trim().to_ascii_uppercase();
    let full = if name.starts_with("EVENT_KIND_") { name } else { format!("EVENT_KIND_{name}") };
    EventKind::from_str_name(&full).filter(|k| !matches!(k, EventKind::Unspecified | EventKind::Checkpoint))
}

/// Why `name` cannot name a webhook, if it cannot: 1 to 64 of
/// `A-Z a-z 0-9 . _ -` (it is a header value and a cursor key).
pub(crate) fn name_problem(name: &str) -> Option<String> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    (!fine).then(|| {
        let shown: String = name.chars().take(80).collect();
        let more = if shown.len() < name.len() { "..." } else { "" };
        format!("{shown:?}{more}: expected 1 to 64 of A-Z a-z 0-9 . _ -")
    })
}

impl Webhook {
    /// Checks `config` and reads its secret and CA files. Errors name the
    /// field: `webhooks[erp].secret_file: ...`.
    pub fn load(config: &WebhookConfig) -> Result<Self, WebhookError> {
        let name = config.name.clone();
        let bad = |field: &'static str, reason: String| WebhookError::Config { webhook: name.clone(), field, reason };
        if let Some(problem) = name_problem(&name) {
            return Err(bad("name", problem));
        }
        parse_url(&config.url).map_err(|e| bad("url", e))?;
        let mut kinds = Vec::new();
        for (i, k) in config.kinds.iter().enumerate() {
            let kind = parse_kind(k)
                .ok_or_else(|| bad("kinds", format!("[{i}] {k:?} is not an event kind (e.g. REPAIR_ORDER_CREATED)")))?;
            kinds.push(kind as i32);
        }
        let raw = std::fs::read(&config.secret_file)
            .map_err(|e| bad("secret_file", format!("cannot read {}: {e}", config.secret_file.display())))?;
        let secret = raw.strip_suffix(b"\n").unwrap_or(&raw);
        let secret = secret.strip_suffix(b"\r").unwrap_or(secret).to_vec();
        if secret.len() < MIN_SECRET {
            return Err(bad(
                "secret_file",
                format!(
                    "{} holds {} bytes; a secret needs at least {MIN_SECRET}",
                    config.secret_file.display(),
                    secret.len()
                ),
            ));
        }
        let roots = match &config.ca_file {
            None => None,
            Some(path) => {
                let pem =
                    std::fs::read(path).map_err(|e| bad("ca_file", format!("cannot read {}: {e}", path.display())))?;
                let mut roots = rustls::RootCertStore::empty();
                for cert in rustls_pki_types::pem::PemObject::pem_slice_iter(&pem) {
                    let cert: rustls_pki_types::CertificateDer<'static> =
                        cert.map_err(|e| bad("ca_file", format!("{}: {e}", path.display())))?;
                    roots.add(cert).map_err(|e| bad("ca_file", format!("{}: {e}", path.display())))?;
                }
                if roots.is_empty() {
                    return Err(bad("ca_file", format!("{} holds no PEM certificate", path.display())));
                }
                Some(roots)
            }
        };
        if config.max_attempts == 0 {
            return Err(bad("max_attempts", "must be at least 1".into()));
        }
        for (field, d) in [
            ("connect_timeout", config.connect_timeout),
            ("request_timeout", config.request_timeout),
            ("initial_backoff", config.initial_backoff),
            ("retry_poll", config.retry_poll),
        ] {
            if d.is_zero() {
                return Err(bad(field, "must be more than 0s".into()));
            }
        }
        if config.max_backoff < config.initial_backoff {
            return Err(bad("max_backoff", "must be at least initial_backoff".into()));
        }
        Ok(Webhook { config: config.clone(), kinds, secret, roots })
    }

    /// The webhook's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }
}

/// The feed identity's files, read once.
#[derive(Clone)]
struct Identity {
    endpoint: String,
    ca: String,
    cert: String,
    key: String,
    server_name: Option<String>,
}

impl Identity {
    fn load(identity: &FeedIdentity) -> Result<Self, WebhookError> {
        let read = |what: &str, p: &std::path::Path| {
            std::fs::read_to_string(p).map_err(|e| WebhookError::Identity(format!("{what} {}: {e}", p.display())))
        };
        Ok(Identity {
            endpoint: identity.endpoint.clone(),
            ca: read("ca", &identity.ca)?,
            cert: read("cert", &identity.cert)?,
            key: read("key", &identity.key)?,
            server_name: identity.server_name.clone(),
        })
    }
}

/// Checks every webhook (names unique), then delivers each one's events
/// until `shutdown` turns true. Returns at once with the first bad
/// configuration; afterwards failures are retried, never returned.
pub async fn run(
    webhooks: Vec<WebhookConfig>,
    identity: FeedIdentity,
    store: CursorStore,
    shutdown: watch::Receiver<bool>,
) -> Result<(), WebhookError> {
    let mut loaded = Vec::new();
    for config in &webhooks {
        if loaded.iter().any(|w: &Webhook| w.name() == config.name) {
            return Err(WebhookError::Config {
                webhook: config.name.clone(),
                field: "name",
                reason: "used by another webhook".into(),
            });
        }
        loaded.push(Webhook::load(config)?);
    }
    let identity = Identity::load(&identity)?;
    let mut tasks = tokio::task::JoinSet::new();
    for hook in loaded {
        let deliverer =
            Deliverer { hook, identity: identity.clone(), store: store.clone(), shutdown: shutdown.clone() };
        tasks.spawn(deliverer.run());
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

struct Deliverer {
    hook: Webhook,
    identity: Identity,
    store: CursorStore,
    shutdown: watch::Receiver<bool>,
}

/// Why one pass over the feed ended.
enum Stop {
    Shutdown,
    /// Parked, or the feed or store failed: start again from the cursor.
    Again,
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Full jitter: a uniform wait in [0, min(max, initial × 2^(attempt-1))].
fn backoff(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.saturating_sub(1).min(30)).unwrap_or(u32::MAX);
    let cap = initial.saturating_mul(factor).min(max);
    let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

impl Deliverer {
    fn closing(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Sleeps for `d`; false if shutdown came first.
    async fn sleep(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.shutdown.wait_for(|c| *c) => false,
        }
    }

    async fn run(mut self) {
        let name = self.hook.name().to_owned();
        let mut endpoint = match Endpoint::new(
            &self.hook.config.url,
            self.hook.roots.clone(),
            self.hook.config.connect_timeout,
            self.hook.config.request_timeout,
        ) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(webhook = %name, error = %e, "webhook not started");
                return;
            }
        };
        let mut failures = 0u32;
        while !self.closing() {
            match self.pass(&mut endpoint).await {
                Ok(Stop::Shutdown) => return,
                Ok(Stop::Again) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(webhook = %name, error = %e, "webhook feed or store failed; resuming from its cursor");
                    let wait = backoff(self.hook.config.initial_backoff, self.hook.config.max_backoff, failures);
                    if !self.sleep(wait).await {
                        return;
                    }
                }
            }
        }
    }

    /// Waits out a parked delivery, then follows the feed from the cursor.
    async fn pass(&mut self, endpoint: &mut Endpoint) -> Result<Stop, String> {
        let name = self.hook.name().to_owned();
        while let Some(parked) = self.store.parked(&name).await.map_err(|e| e.to_string())? {
            tracing::debug!(webhook = %name, sequence = parked.sequence, "webhook parked; waiting for a retry");
            if !self.sleep(self.hook.config.retry_poll).await {
                return Ok(Stop::Shutdown);
            }
        }
        let mut cursor = self.store.cursor(&name).await.map_err(|e| e.to_string())?;
        let client = Client::connect_with(
            &self.identity.endpoint,
            &self.identity.ca,
            &self.identity.cert,
            &self.identity.key,
            self.identity.server_name.as_deref(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let request = SubscribeRequest { after_sequence: cursor, kinds: self.hook.kinds.clone(), checkpoints: false };
        let mut stream =
            client.feed().subscribe(request).await.map_err(|s| format!("subscribe: {}", s.message()))?.into_inner();
        tracing::info!(webhook = %name, after_sequence = cursor, "webhook following the feed");
        loop {
            let next = tokio::select! {
                m = stream.message() => m,
                _ = self.shutdown.wait_for(|c| *c) => return Ok(Stop::Shutdown),
            };
            let event = match next {
                Ok(Some(e)) => e,
                Ok(None) => return Err("the feed ended".into()),
                Err(s) => return Err(format!("feed: {}", s.message())),
            };
            // The feed is strictly increasing; anything at or below the cursor was acknowledged.
            if event.sequence <= cursor || event.kind == EventKind::Checkpoint as i32 {
                continue;
            }
            match self.deliver(endpoint, &event).await? {
                Some(true) => {
                    self.store.advance(&name, event.sequence).await.map_err(|e| e.to_string())?;
                    cursor = event.sequence;
                }
                Some(false) => return Ok(Stop::Again),
                None => return Ok(Stop::Shutdown),
            }
        }
    }

    /// Sends one event until it is delivered (`Some(true)`) or parked
    /// (`Some(false)`); `None` on shutdown.
    async fn deliver(&mut self, endpoint: &mut Endpoint, event: &Event) -> Result<Option<bool>, String> {
        let name = self.hook.name().to_owned();
        let body = Bytes::from(serde_json::to_vec(event).map_err(|e| format!("event {}: {e}", event.sequence))?);
        let config = self.hook.config.clone();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let timestamp = unix_now();
            let headers = [
                ("cosx-webhook-id", name.clone()),
                ("cosx-event-sequence", event.sequence.to_string()),
                ("cosx-timestamp", timestamp.to_string()),
                ("cosx-signature", sign(&self.hook.secret, timestamp, &body)),
                ("cosx-delivery-attempt", attempt.to_string()),
            ];
            let (reason, not_before) = match endpoint.post(&headers, body.clone()).await {
                Outcome::Delivered => {
                    tracing::debug!(webhook = %name, sequence = event.sequence, attempt, "webhook delivered");
                    return Ok(Some(true));
                }
                Outcome::Retry { reason, not_before } if attempt < config.max_attempts => (reason, not_before),
                Outcome::Retry { reason, .. } | Outcome::Refused { reason } => {
                    let parked = ParkedDelivery {
                        webhook: name.clone(),
                        sequence: event.sequence,
                        kind: EventKind::try_from(event.kind).map(|k| k.as_str_name().to_owned()).unwrap_or_default(),
                        attempts: attempt,
                        last_error: reason.clone(),
                        parked_at: unix_now(),
                        event_json: String::from_utf8_lossy(&body).into_owned(),
                    };
                    self.store.park(&parked).await.map_err(|e| e.to_string())?;
                    tracing::error!(webhook = %name, sequence = event.sequence, attempts = attempt, reason = %reason,
                        "webhook delivery parked; nothing more is sent until it is retried");
                    return Ok(Some(false));
                }
            };
            let wait = backoff(config.initial_backoff, config.max_backoff, attempt)
                .max(not_before.unwrap_or_default().min(config.max_backoff));
            tracing::warn!(webhook = %name, sequence = event.sequence, attempt, reason = %reason, ?wait, "webhook delivery failed; retrying");
            if !self.sleep(wait).await {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn config(dir: &std::path::Path) -> WebhookConfig {
        let secret = dir.join("s.hmac");
        std::fs::write(&secret, "0123456789abcdef0123\n").unwrap();
        WebhookConfig::new("erp", "https://erp.example/hook", secret)
    }

    fn refusal(c: &WebhookConfig) -> String {
        Webhook::load(c).unwrap_err().to_string()
    }

    #[test]
    fn kinds_are_named_with_or_without_their_prefix_and_checkpoints_are_not_kinds() {
        assert_eq!(parse_kind("repair_order_created"), Some(EventKind::RepairOrderCreated));
        assert_eq!(parse_kind("EVENT_KIND_BALANCE_WARNING"), Some(EventKind::BalanceWarning));
        assert_eq!(parse_kind("CHECKPOINT"), None);
        assert_eq!(parse_kind("UNSPECIFIED"), None);
        assert_eq!(parse_kind("ORDER_EATEN"), None);
    }

    #[test]
    fn every_bad_value_is_refused_naming_the_webhook_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let good = config(dir.path());
        assert_eq!(Webhook::load(&good).unwrap().secret, b"0123456789abcdef0123");

        let c = WebhookConfig { name: "erp hooks".into(), ..good.clone() };
        assert!(refusal(&c).starts_with("webhooks[erp hooks].name: "), "{}", refusal(&c));
        let c = WebhookConfig { url: "ftp://erp.example/".into(), ..good.clone() };
        assert!(refusal(&c).starts_with("webhooks[erp].url: "), "{}", refusal(&c));
        let c = WebhookConfig { kinds: vec!["REPAIR_ORDER_CREATED".into(), "ORDER_EATEN".into()], ..good.clone() };
        assert_eq!(
            refusal(&c),
            "webhooks[erp].kinds: [1] \"ORDER_EATEN\" is not an event kind (e.g. REPAIR_ORDER_CREATED)"
        );
        let c = WebhookConfig { secret_file: dir.path().join("missing"), ..good.clone() };
        assert!(refusal(&c).starts_with("webhooks[erp].secret_file: cannot read "), "{}", refusal(&c));
        std::fs::write(dir.path().join("short"), "abc\n").unwrap();
        let c = WebhookConfig { secret_file: dir.path().join("short"), ..good.clone() };
        assert!(refusal(&c).ends_with("holds 3 bytes; a secret needs at least 16"), "{}", refusal(&c));
        std::fs::write(dir.path().join("notpem"), "hello").unwrap();
        let c = WebhookConfig { ca_file: Some(dir.path().join("notpem")), ..good.clone() };
        assert!(refusal(&c).ends_with("holds no PEM certificate"), "{}", refusal(&c));
        let c = WebhookConfig { max_attempts: 0, ..good.clone() };
        assert_eq!(refusal(&c), "webhooks[erp].max_attempts: must be at least 1");
        let c = WebhookConfig { max_backoff: Duration::from_millis(1), ..good.clone() };
        assert_eq!(refusal(&c), "webhooks[erp].max_backoff: must be at least initial_backoff");
        let c = WebhookConfig { request_timeout: Duration::ZERO, ..good };
        assert_eq!(refusal(&c), "webhooks[erp].request_timeout: must be more than 0s");
    }

    #[test]
    fn backoff_grows_to_its_cap_with_full_jitter() {
        let (initial, max) = (Duration::from_millis(100), Duration::from_secs(2));
        for attempt in 1..40 {
            let cap = (initial * 2u32.saturating_pow(attempt - 1).min(1 << 20)).min(max);
            for _ in 0..20 {
                assert!(backoff(initial, max, attempt) <= cap, "attempt {attempt}");
            }
        }
        // Full jitter: waits spread over the whole range, not just near the cap.
        let waits: Vec<_> = (0..200).map(|_| backoff(initial, max, 10)).collect();
        assert!(
            waits.iter().any(|w| *w < Duration::from_millis(500))
                && waits.iter().any(|w| *w > Duration::from_millis(1500))
        );
    }
}
