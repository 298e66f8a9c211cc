//! Webhooks: a user's subscription to their own events, delivered as signed
//! HTTP POSTs by the queue. This module owns the record, its validation, the
//! body a delivery sends and its signature; choosing which events a webhook
//! gets (in the same write set as the event) and running a delivery are the
//! engine's, and the HTTP request itself is the facade's.
//!
//! The secret is write-only: the caller chose it, so no answer ever carries
//! it back (the record's `Serialize` leaves it out, and so does `Debug`).
//! Stores keep it as given, since a signature needs the secret itself.
//!
//! Where a webhook may point is a deployment's choice ([`Targets`]): by
//! default only public addresses, so that a user cannot make the server
//! POST into its own network. The rule is here ([`is_public_address`]);
//! a URL naming an address is judged when it is written and again before a
//! delivery, and a URL naming a host is judged by the facade on every
//! address the host resolves to when it sends (DNS may change in between).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::event::{EventKind, NewEvent};
use crate::ids::{UserId, WebhookId};
use crate::validate::Checks;

/// Longest URL, in characters.
pub const URL_MAX: usize = 2048;
/// Shortest and longest secret, in characters.
pub const SECRET_MIN: usize = 16;
pub const SECRET_MAX: usize = 256;
/// Most event kinds one webhook names.
pub const EVENTS_MAX: usize = 64;
/// Most webhooks one user may have.
pub const WEBHOOKS_MAX: usize = 20;
/// The subscription to every event kind.
pub const ALL_EVENTS: &str = "*";

/// The header carrying the signature (`sha256=<hex>`).
pub const SIGNATURE_HEADER: &str = "X-Steward-Signature";
/// The header naming the event kind.
pub const EVENT_HEADER: &str = "X-Steward-Event";
/// The header carrying the delivery's id (the same on every retry).
pub const DELIVERY_HEADER: &str = "X-Steward-Delivery";

/// Which addresses webhooks may be sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Targets {
    /// Public unicast addresses only (see [`is_public_address`]).
    #[default]
    PublicOnly,
    /// Any address, the server's own network included: for a deployment
    /// whose receivers are on it (and for tests with a local receiver).
    AnyAddress,
}

impl Targets {
    /// Whether a delivery may go to `ip`.
    pub fn allow(self, ip: IpAddr) -> bool {
        self == Targets::AnyAddress || is_public_address(ip)
    }
}

/// Whether `ip` is a public unicast address: not unspecified, loopback,
/// private (RFC 1918, IPv6 unique-local), link-local, shared (RFC 6598),
/// benchmarking, multicast, broadcast or reserved. An IPv4 address carried
/// in IPv6 (mapped, or NAT64's well-known prefix) is judged as itself.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19))
        // Multicast, the reserved block and the broadcast address.
        || a >= 224;
    !special
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let s = ip.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., a, b, c, d] = ip.octets();
        return public_v4(Ipv4Addr::new(a, b, c, d));
    }
    // `::/96` (unspecified, loopback, the deprecated IPv4-compatible
    // addresses), unique-local, link-local, site-local and multicast.
    let special = s[..6] == [0; 6]
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] & 0xff00) == 0xff00;
    !special
}

/// The address a URL names as its host, if it names one rather than a
/// host name (read as an HTTP client reads it: `http://2130706433/` is
/// 127.0.0.1).
pub fn literal_address(url: &str) -> Option<IpAddr> {
    match url::Url::parse(url).ok()?.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// Whether `targets` allow what `url` names before it is resolved: its
/// literal address, or `localhost` or a name under it, which resolve to
/// the loopback address wherever they are looked up (RFC 6761 §6.3). Any
/// other name is judged by the addresses it resolves to, when a delivery
/// is sent.
pub fn allows_before_lookup(url: &str, targets: Targets) -> bool {
    if targets == Targets::AnyAddress {
        return true;
    }
    match url::Url::parse(url).ok().as_ref().and_then(url::Url::host) {
        Some(url::Host::Ipv4(v4)) => targets.allow(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => targets.allow(IpAddr::V6(v6)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name != "localhost" && !name.ends_with(".localhost")
        }
        None => true,
    }
}

/// One webhook.
#[derive(Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Webhook {
    pub id: WebhookId,
    pub user_id: UserId,
    pub url: String,
    /// Event kinds (`task.created`, …), or just `*` for every kind.
    pub events: Vec<String>,
    /// Never serialised: see the module doc.
    #[serde(skip_serializing)]
    pub secret: String,
    pub active: bool,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("events", &self.events)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// A webhook as a caller asks for it. Absent fields are empty, so that
/// validation reports every missing one at once.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(extend("required" = ["url", "events", "secret"])))]
#[serde(default)]
pub struct NewWebhook {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = URL_MAX), pattern(URL_PATTERN)))]
    pub url: String,
    #[cfg_attr(feature = "openapi", schemars(schema_with = "events_schema"))]
    pub events: Vec<String>,
    #[cfg_attr(feature = "openapi", schemars(length(min = SECRET_MIN, max = SECRET_MAX), pattern(SECRET_PATTERN)))]
    pub secret: String,
}

/// The URLs [`Webhook::create`] accepts, as a JSON Schema pattern: http or
/// https, an optional user part, a host, an optional port, then no blanks
/// or control characters. A bracketed IPv6 host is accepted too but not
/// offered here: most URL parsers refuse a bracket that holds no address.
#[cfg(feature = "openapi")]
const URL_PATTERN: &str = concat!(
    r"^[Hh][Tt][Tt][Pp][Ss]?://",
    r"([^\s/?#@\[\]\u0000-\u001f\u007f-\u009f]*@)?",
    r"[^\s/?#@:\[\]\u0000-\u001f\u007f-\u009f]+",
    r"(:[0-9]*)?",
    r"([/?#][^\s\u0000-\u001f\u007f-\u009f]*)?$"
);

/// A secret [`Webhook::create`] accepts: no control characters.
#[cfg(feature = "openapi")]
const SECRET_PATTERN: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";

/// `events`: known kinds without repeats, or `*` alone.
#[cfg(feature = "openapi")]
fn events_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    schemars::json_schema!({
        "anyOf": [
            {"type": "array", "items": {"enum": kinds}, "minItems": 1, "maxItems": EVENTS_MAX, "uniqueItems": true},
            {"type": "array", "items": {"const": ALL_EVENTS}, "minItems": 1, "maxItems": 1}
        ],
        "description": "Event kinds (task.created, …), or [\"*\"] for every kind"
    })
}

impl std::fmt::Debug for NewWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewWebhook").field("events", &self.events).finish_non_exhaustive()
    }
}

/// A partial update of a webhook: absent (or `null`) fields stay as they
/// are. A new secret is checked like a first one and is never shown either.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct WebhookPatch {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = URL_MAX), pattern(URL_PATTERN)))]
    pub url: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(schema_with = "events_patch_schema"))]
    pub events: Option<Vec<String>>,
    #[cfg_attr(feature = "openapi", schemars(length(min = SECRET_MIN, max = SECRET_MAX), pattern(SECRET_PATTERN)))]
    pub secret: Option<String>,
    pub active: Option<bool>,
}

/// `events` of a patch: as [`events_schema`], or `null` (unchanged).
#[cfg(feature = "openapi")]
fn events_patch_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let events = events_schema(generator);
    schemars::json_schema!({ "anyOf": [events, {"type": "null"}] })
}

impl std::fmt::Debug for WebhookPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookPatch")
            .field("events", &self.events)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// A valid webhook from `new`, or every problem with it. `targets` says
    /// whether its URL may name a private address.
    pub fn create(
        new: NewWebhook,
        id: WebhookId,
        owner: UserId,
        now: DateTime<Utc>,
        targets: Targets,
    ) -> Result<Webhook> {
        let mut checks = Checks::new();
        let url = new.url.trim().to_string();
        check_url(&mut checks, &url, targets);
        let events = check_events(&mut checks, &new.events);
        check_secret(&mut checks, &new.secret);
        checks.finish()?;
        Ok(Webhook {
            id,
            user_id: owner,
            url,
            events,
            secret: new.secret,
            active: true,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// This webhook with `patch` applied, one version on, or every problem
    /// with the patch (validated as [`Webhook::create`] validates).
    pub fn apply(&self, patch: WebhookPatch, now: DateTime<Utc>, targets: Targets) -> Result<Webhook> {
        let mut checks = Checks::new();
        let mut next = self.clone();
        if let Some(url) = patch.url {
            next.url = url.trim().to_string();
            check_url(&mut checks, &next.url, targets);
        }
        if let Some(events) = patch.events {
            next.events = check_events(&mut checks, &events);
        }
        if let Some(secret) = patch.secret {
            check_secret(&mut checks, &secret);
            next.secret = secret;
        }
        if let Some(active) = patch.active {
            next.active = active;
        }
        checks.finish()?;
        next.updated_at = now.max(self.updated_at);
        next.version += 1;
        Ok(next)
    }

    /// Whether an event of `kind` goes to this webhook.
    pub fn wants(&self, kind: &str) -> bool {
        self.active && self.events.iter().any(|e| e == ALL_EVENTS || e == kind)
    }

    /// Whether `targets` allow the address this webhook's URL names, if it
    /// names one (a host name, `localhost` too, is judged when it is
    /// resolved: a webhook stored while any address was allowed is sent
    /// nowhere it should not be).
    pub fn addressable(&self, targets: Targets) -> bool {
        literal_address(&self.url).is_none_or(|ip| targets.allow(ip))
    }
}

/// [`SECRET_MIN`]–[`SECRET_MAX`] characters, none of them control characters.
fn check_secret(checks: &mut Checks, secret: &str) {
    let chars = secret.chars().count();
    if !(SECRET_MIN..=SECRET_MAX).contains(&chars) {
        checks.fail("secret", format!("must be {SECRET_MIN}–{SECRET_MAX} characters"));
    } else if secret.chars().any(char::is_control) {
        checks.fail("secret", "must not contain control characters");
    }
}

/// `http`/`https`, a host, no spaces or control characters, at most
/// [`URL_MAX`] characters, a URL an HTTP client can read, and, unless
/// `targets` allow any, no private address as its host.
fn check_url(checks: &mut Checks, url: &str, targets: Targets) {
    let len = url.chars().count();
    if url.is_empty() {
        return checks.fail("url", "must not be empty");
    }
    if len > URL_MAX {
        return checks.fail("url", format!("must be at most {URL_MAX} characters (got {len})"));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    let Some(rest) = rest else {
        return checks.fail("url", "must be an http:// or https:// URL");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        return checks.fail("url", "must name a host");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return checks.fail("url", "must not contain spaces or control characters");
    }
    if let Err(e) = url::Url::parse(url) {
        return checks.fail("url", format!("is not a valid URL: {e}"));
    }
    if !allows_before_lookup(url, targets) {
        checks.fail(
            "url",
            "must not point at a private, loopback, link-local or unspecified address \
             (this server sends webhooks to public addresses only)",
        );
    }
}

/// A non-empty list of known event kinds without repeats, or `*` alone.
fn check_events(checks: &mut Checks, events: &[String]) -> Vec<String> {
    if events.is_empty() {
        checks.fail("events", "must name at least one event kind, or \"*\"");
        return Vec::new();
    }
    if events.len() > EVENTS_MAX {
        checks.fail("events", format!("at most {EVENTS_MAX} event kinds (got {})", events.len()));
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for raw in events {
        let name = raw.trim();
        if name == ALL_EVENTS {
            if events.len() > 1 {
                checks.fail("events", "\"*\" means every kind and stands alone");
            }
            out.push(ALL_EVENTS.into());
            continue;
        }
        match name.parse::<EventKind>() {
            Ok(kind) if out.iter().any(|e| e == kind.as_str()) => {
                checks.fail("events", format!("'{name}' is listed twice"));
            }
            Ok(kind) => out.push(kind.as_str().into()),
            Err(_) => checks.fail("events", format!("'{name}' is not an event kind")),
        }
    }
    out
}

/// What a `webhook.deliver` job carries: the webhook and the event, as it
/// was committed (without its `seq`, which the store assigns in the same
/// transaction).
pub(crate) fn delivery_payload(hook: &Webhook, e: &NewEvent) -> Value {
    json!({
        "webhook_id": hook.id,
        "user_id": hook.user_id,
        "event": {
            "kind": e.kind,
            "user_id": e.user_id,
            "actor": e.actor,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "before": e.before,
            "after": e.after,
            "at": crate::clock::to_micros(e.at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        },
    })
}

/// The parts of a `webhook.deliver` payload the engine reads back.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DeliveryPayload {
    pub(crate) webhook_id: WebhookId,
    pub(crate) user_id: UserId,
    pub(crate) event: Value,
}

impl DeliveryPayload {
    pub(crate) fn read(payload: &Value) -> Result<DeliveryPayload> {
        serde_json::from_value(payload.clone())
            .map_err(|e| Error::invalid("payload", format!("not a webhook delivery: {e}")))
    }
}

/// One HTTP delivery, ready to send: the exact body bytes and the headers
/// that go with them. `Debug` leaves out the secret-derived signature and
/// the body (personal content).
#[derive(Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: WebhookId,
    pub url: String,
    pub kind: String,
    pub body: Vec<u8>,
    /// `sha256=<hex HMAC-SHA256 of body with the webhook's secret>`.
    pub signature: String,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("id", &self.id)
            .field("webhook_id", &self.webhook_id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// The body for `event` under delivery `id`, signed with `hook`'s secret.
    pub(crate) fn new(hook: &Webhook, id: Uuid, mut event: Value) -> Result<Delivery> {
        let kind = event.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
        if let Some(obj) = event.as_object_mut() {
            obj.insert("delivery_id".into(), json!(id));
            obj.insert("webhook_id".into(), json!(hook.id));
        }
        let body = serde_json::to_vec(&event).map_err(|e| Error::Internal(format!("delivery body: {e}")))?;
        let signature = sign(&hook.secret, &body);
        Ok(Delivery { id, webhook_id: hook.id, url: hook.url.clone(), kind, body, signature })
    }

    /// The headers of the POST, in order, `Content-Type` first.
    pub fn headers(&self) -> [(&'static str, String); 4] {
        [
            ("Content-Type", "application/json".into()),
            (EVENT_HEADER, self.kind.clone()),
            (DELIVERY_HEADER, self.id.to_string()),
            (SIGNATURE_HEADER, self.signature.clone()),
        ]
    }
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` keyed by `secret`:
/// what a receiver recomputes to trust a delivery.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = match Hmac::<sha2_hmac::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let mut out = String::from("sha256=");
    crate::hex::push(&mut out, &mac.finalize().into_bytes());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn new(url: &str, events: &[&str]) -> NewWebhook {
        NewWebhook {
            url: url.into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            secret: "s".repeat(SECRET_MIN),
        }
    }

    fn fields(r: Result<Webhook>) -> Vec<String> {
        match r {
            Err(Error::Invalid(errors)) => errors.into_iter().map(|e| e.loc.join(".")).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    /// Validation does not depend on the time: any fixed instant will do.
    fn instant() -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
    }

    fn make_for(n: NewWebhook, targets: Targets) -> Result<Webhook> {
        Webhook::create(n, WebhookId(Uuid::nil()), UserId(Uuid::nil()), instant(), targets)
    }

    fn make(n: NewWebhook) -> Result<Webhook> {
        make_for(n, Targets::AnyAddress)
    }

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        for good in
            ["http://127.0.0.1:9000/hook", "https://example.com", "HTTPS://example.com/a?b=c", "http://[::1]:80/"]
        {
            assert!(make(new(good, &["*"])).is_ok(), "{good}");
        }
        for bad in ["", "ftp://example.com", "example.com", "http://", "http:///path", "https://exa mple.com"] {
            assert_eq!(fields(make(new(bad, &["*"]))), ["body.url"], "{bad}");
        }
        // Hosts the document's pattern lets through but the URL standard refuses
        // (scripts/schemathesis.toml): an unassigned code point, broken punycode,
        // a last label that reads as a number but is no IPv4 address.
        for bad in ["https://e\u{8ca89}r:1126", "http://xn--a/", "http://a.1.2.3.4.5/"] {
            assert_eq!(fields(make(new(bad, &["*"]))), ["body.url"], "{bad}");
        }
        // An internationalised name is a host like any other.
        assert!(make(new("https://bücher.example/hook", &["*"])).is_ok());
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX));
        assert_eq!(fields(make(new(&long, &["*"]))), ["body.url"]);
    }

    #[test]
    fn private_addresses_are_refused_unless_any_address_is_allowed() {
        for private in [
            "http://127.0.0.1:9000/hook",
            "http://localhost.:9000@127.0.0.2/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0:8080/",
            "http://255.255.255.255/",
            "http://224.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::1]:80/",
            "http://[::]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[64:ff9b::a00:1]/",
            "http://localhost:9000/",
            "https://LocalHost./hook",
            "http://api.localhost/",
        ] {
            assert_eq!(fields(make_for(new(private, &["*"]), Targets::PublicOnly)), ["body.url"], "{private}");
            assert!(make_for(new(private, &["*"]), Targets::AnyAddress).is_ok(), "{private}");
        }
        for public in [
            "https://example.com/hook",
            "http://93.184.215.14/",
            "http://172.32.0.1/",
            "http://100.128.0.1/",
            "http://[2606:4700::1111]/",
            "http://[64:ff9b::5db8:d70e]/",
            // Any other name is judged by what it resolves to, when a delivery is sent.
            "http://localhost.example.com/",
            "http://mylocalhost/",
        ] {
            assert!(make_for(new(public, &["*"]), Targets::PublicOnly).is_ok(), "{public}");
        }
    }

    #[test]
    fn patches_change_only_what_they_name_and_are_validated() {
        let hook = make(new("https://x.test/a", &["*"])).unwrap();
        let later = instant() + chrono::Duration::seconds(5);
        let off = hook.apply(WebhookPatch { active: Some(false), ..Default::default() }, later, Targets::PublicOnly);
        let off = off.unwrap();
        assert_eq!((off.active, off.url.as_str(), off.version, off.updated_at), (false, "https://x.test/a", 2, later));
        assert_eq!(
            (off.events.clone(), off.secret.clone(), off.created_at),
            (hook.events, hook.secret, hook.created_at)
        );
        let moved = WebhookPatch {
            url: Some(" https://y.test/b ".into()),
            events: Some(vec!["task.created".into()]),
            secret: Some("another-secret-0123".into()),
            active: None,
        };
        let moved = off.apply(moved, later, Targets::PublicOnly).unwrap();
        assert_eq!(
            (moved.url.as_str(), moved.events.as_slice(), moved.active),
            ("https://y.test/b", &["task.created".to_string()][..], false)
        );
        assert_eq!(moved.secret, "another-secret-0123");
        let bad = WebhookPatch {
            url: Some("http://127.0.0.1/".into()),
            events: Some(vec![]),
            secret: Some("short".into()),
            active: None,
        };
        assert_eq!(fields(moved.apply(bad, later, Targets::PublicOnly)), ["body.url", "body.events", "body.secret"]);
        assert!(
            !format!("{:?}", WebhookPatch { secret: Some("hidden-secret".into()), ..Default::default() })
                .contains("hidden")
        );
    }

    #[test]
    fn events_are_known_kinds_or_a_lone_star() {
        let hook = make(new("https://x.test", &[" task.created ", "approval.requested"])).unwrap();
        assert_eq!(hook.events, ["task.created", "approval.requested"]);
        assert!(hook.wants("task.created") && !hook.wants("task.updated"));
        assert!(make(new("https://x.test", &["*"])).unwrap().wants("thought.captured"));
        for bad in [&[][..], &["task.exploded"], &["*", "task.created"], &["task.created", "task.created"]] {
            assert_eq!(fields(make(new("https://x.test", bad))), ["body.events"], "{bad:?}");
        }
    }

    #[test]
    fn short_secrets_are_refused_and_secrets_never_serialise() {
        let mut short = new("https://x.test", &["*"]);
        short.secret = "short".into();
        assert_eq!(fields(make(short)), ["body.secret"]);
        let hook = make(new("https://x.test", &["*"])).unwrap();
        let shown = serde_json::to_string(&hook).unwrap();
        assert!(!shown.contains(&hook.secret) && !shown.contains("secret"), "{shown}");
        assert!(!format!("{hook:?}").contains(&hook.secret));
    }

    /// RFC 4231 test case 2.
    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
