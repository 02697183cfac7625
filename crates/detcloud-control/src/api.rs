//! The HTTP API of `detcloud serve`: JSON under `/v1`, authenticated by bearer tokens.
//!
//! | request | answer |
//! | --- | --- |
//! | `PUT /v1/accounts/{account_id}` `{"role_arn", "external_id", "regions", "paused"?}` | 201 new, 200 updated |
//! | `GET /v1/accounts`, `GET /v1/accounts/{account_id}` | the accounts, the account |
//! | `DELETE /v1/accounts/{account_id}` | 204; 409 while clusters remain |
//! | `PUT /v1/accounts/{account_id}/clusters/{name}` a cluster spec | 201 or 200, `ETag`; `If-Match` stale: 412 |
//! | `GET /v1/accounts/{account_id}/clusters[?after=NAME&limit=N]` | a page of clusters with status |
//! | `GET /v1/accounts/{account_id}/clusters/{name}` | the cluster, its status, `ETag` |
//! | `DELETE /v1/accounts/{account_id}/clusters/{name}[?purge=true]` | 202; 404 once it is gone |
//! | `GET /v1/events[?after=ID&limit=N]` | events, oldest first |
//! | `GET /healthz`, `GET /readyz`, `GET /metrics` | process up, store reachable, Prometheus text |
//!
//! Every error is `{"error": {"code", "message", "field"}}` with 400 (malformed or invalid: the
//! field and the rule), 401, 404, 405, 409, 412, 413 (bodies over [`ApiOptions::max_body`]), 415,
//! 429 (a token over its request rate) or 503 (the store unreachable). Input is checked in full
//! before anything is written, and each write is one transaction: an error stores nothing.
//!
//! `/healthz`, `/readyz` and `/metrics` need no token, as probes and scrapers expect; bind the
//! server to loopback or a private network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use detcloud_cluster::spec::{validate_cluster_name, validate_region};
use detcloud_cluster::ClusterSpec;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::metrics::Metrics;
use crate::store::{Account, AccountInput, ClusterInput, ClusterView, Event, Millis, Phase, Store, StoreError};

/// Limits of the API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApiOptions {
    /// The largest request body accepted (413 above it).
    pub max_body: usize,
    /// Requests each token may send in a burst.
    pub burst: u32,
    /// Requests per second each token may sustain (429 above it).
    pub per_second: f64,
}

impl Default for ApiOptions {
    /// 1 MiB bodies; 200 requests in a burst, then 100 a second, per token.
    fn default() -> Self {
        ApiOptions { max_body: 1 << 20, burst: 200, per_second: 100.0 }
    }
}

/// What the API's handlers share.
#[derive(Debug)]
pub struct Api {
    store: Arc<dyn Store>,
    wake: Arc<tokio::sync::Notify>,
    metrics: Arc<Metrics>,
    options: ApiOptions,
    limiter: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Api {
    /// The API over `store`; a change of desired state notifies `wake` (the reconciler sweeps at
    /// once); `/metrics` shows `metrics`.
    pub fn new(
        store: Arc<dyn Store>,
        wake: Arc<tokio::sync::Notify>,
        metrics: Arc<Metrics>,
        options: ApiOptions,
    ) -> Arc<Api> {
        Arc::new(Api { store, wake, metrics, options, limiter: Mutex::new(HashMap::new()) })
    }

    /// Takes one request from `token`'s bucket; the seconds to wait when it is empty.
    fn admit(&self, token: &str) -> Result<(), f64> {
        let mut buckets = crate::lock(&self.limiter);
        let now = Instant::now();
        let burst = f64::from(self.options.burst.max(1));
        let (tokens, at) = buckets.entry(token.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.options.per_second).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - *tokens) / self.options.per_second.max(f64::MIN_POSITIVE))
        }
    }
}

/// The router of the whole API.
pub fn router(api: Arc<Api>) -> Router {
    let v1 = Router::new()
        .route("/v1/accounts", get(list_accounts))
        .route("/v1/accounts/{account_id}", get(get_account).put(put_account).delete(delete_account))
        .route("/v1/accounts/{account_id}/clusters", get(list_clusters))
        .route("/v1/accounts/{account_id}/clusters/{name}", get(get_cluster).put(put_cluster).delete(delete_cluster))
        .route("/v1/events", get(list_events))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&api), authenticate));
    Router::new()
        .merge(v1)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&api), count))
        .with_state(api)
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), field: None, retry_after: None }
    }

    fn invalid(field: impl Into<String>, rule: impl std::fmt::Display) -> ApiError {
        let field = field.into();
        ApiError {
            field: Some(field.clone()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("{field}: {rule}"))
        }
    }

    /// A failed precondition names the header that carried it.
    fn on_precondition(self, header: &str) -> ApiError {
        if self.status == StatusCode::PRECONDITION_FAILED {
            self.on(header)
        } else {
            self
        }
    }

    fn on(mut self, field: &str) -> ApiError {
        self.field = Some(field.to_string());
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message, "field": self.field}});
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            StoreError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            StoreError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            StoreError::PreconditionFailed { .. } => {
                ApiError::new(StatusCode::PRECONDITION_FAILED, "precondition_failed", e.to_string()).on("If-Match")
            }
            StoreError::Database(_) => {
                tracing::warn!(error = %e, "the store failed");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the store cannot be reached; retry")
            }
            _ => {
                tracing::error!(error = %e, "the store failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            }
        }
    }
}

type Answer = Result<Response, ApiError>;

/// Who made a request: the name of its token (the events' actor).
#[derive(Debug, Clone)]
struct Actor(String);

async fn authenticate(State(api): State<Arc<Api>>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| crate::token::looks_valid(t));
    let unauthorized =
        |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why).on("Authorization").into_response();
    let Some(token) = token else {
        return unauthorized(
            "Authorization: send `Authorization: Bearer TOKEN` with a token from `detcloud serve token create`",
        );
    };
    let name = match api.store.authenticate(&crate::token::hash(token)).await {
        Ok(Some(name)) => name,
        Ok(None) => return unauthorized("Authorization: the token is unknown or revoked"),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Err(wait) = api.admit(&name) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("token {name} is over {} requests a second; retry later", api.options.per_second),
        );
        e.retry_after = Some(wait.ceil().max(1.0) as u64);
        return e.into_response();
    }
    request.extensions_mut().insert(Actor(name));
    next.run(request).await
}

async fn count(State(api): State<Arc<Api>>, request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    api.metrics.request(&route, response.status().as_u16());
    response
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route: see the API's routes in the README")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
}

async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn readyz(State(api): State<Arc<Api>>) -> Answer {
    api.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readyz: the store cannot be reached");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the store cannot be reached")
    })?;
    Ok(axum::Json(json!({"status": "ready"})).into_response())
}

async fn metrics(State(api): State<Arc<Api>>) -> Answer {
    let (phases, leases) = futures::try_join!(api.store.phase_counts(), api.store.leases())?;
    let text = api.metrics.render(&phases, &leases);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

// ---- Input ----

/// The query string's parameters; a parameter given twice or unknown is refused.
fn query(raw: Option<String>, known: &[&str]) -> Result<HashMap<String, String>, ApiError> {
    let mut out = HashMap::new();
    for pair in raw.as_deref().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| ApiError::invalid("query", "must be UTF-8"))
        };
        let (key, value) = (decode(key)?, decode(value)?);
        if !known.contains(&key.as_str()) {
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            return Err(ApiError::invalid(key, format!("unknown query parameter (this route takes: {known})")));
        }
        if out.insert(key.clone(), value).is_some() {
            return Err(ApiError::invalid(key, "given more than once"));
        }
    }
    Ok(out)
}

fn limit(params: &HashMap<String, String>, default: usize, max: usize) -> Result<usize, ApiError> {
    match params.get("limit") {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid("limit", format!("must be a whole number from 1 to {max} (got {v:?})"))),
        },
    }
}

/// The body, as JSON of type `T`: 415 unless it is JSON, 413 over the limit, 400 naming the field
/// that does not fit.
async fn json_body(api: &Api, headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/json" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Content-Type: must be application/json (got {content_type:?})"),
        )
        .on("Content-Type"));
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("body: must be at most {} bytes", api.options.max_body),
        )
        .on("body")
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > api.options.max_body) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, api.options.max_body).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            too_large()
        } else {
            ApiError::invalid("body", "could not be read")
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let message = format!("body: not valid JSON: {e}");
        ApiError { field: Some("body".into()), ..ApiError::new(StatusCode::BAD_REQUEST, "malformed", message) }
    })
}

/// A JSON object as `T`; the error names the field that does not fit (`body` for the whole).
fn typed<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::invalid("body", format!("must be a JSON object: {what}")));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = strip_position(&e.inner().to_string());
        if path.is_empty() || path == "." {
            ApiError::invalid("body", message)
        } else {
            ApiError::invalid(path, message)
        }
    })
}

/// serde_json's message without its " at line L column C" (the field says where).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn check_account_id(id: &str) -> Result<(), ApiError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::invalid("account_id", format!("must be a 12-digit AWS account id (got {id:?})")))
    }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    validate_cluster_name(name).map_err(|rule| ApiError::invalid("name", rule))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountBody {
    role_arn: String,
    external_id: String,
    regions: Vec<String>,
    #[serde(default)]
    paused: bool,
}

fn check_account(id: &str, body: &AccountBody) -> Result<(), ApiError> {
    let role = body.role_arn.split(':').collect::<Vec<_>>();
    let role_ok = matches!(role.as_slice(), ["arn", "aws" | "aws-cn" | "aws-us-gov", "iam", "", account, resource]
        if *account == id && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty() && n.len() <= 512
            && n.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))));
    if !role_ok {
        return Err(ApiError::invalid(
            "role_arn",
            format!("must be the ARN of an IAM role in account {id}, such as arn:aws:iam::{id}:role/detcloud-xacct (got {:?})", body.role_arn),
        ));
    }
    let e = &body.external_id;
    if !(2..=1224).contains(&e.len()) || !e.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c)) {
        return Err(ApiError::invalid(
            "external_id",
            "must be 2 to 1224 characters of letters, digits and +=,.@:/-_ (the one `detcloud connect aws` printed)",
        ));
    }
    if body.regions.is_empty() || body.regions.len() > 32 {
        return Err(ApiError::invalid("regions", "must list 1 to 32 regions"));
    }
    for (i, region) in body.regions.iter().enumerate() {
        validate_region(region).map_err(|rule| ApiError::invalid(format!("regions[{i}]"), rule))?;
        if body.regions[..i].contains(region) {
            return Err(ApiError::invalid(format!("regions[{i}]"), format!("{region} is listed twice")));
        }
    }
    Ok(())
}

/// The cluster spec of a PUT: the body with the name of the path and the account's region when
/// it names none, validated as `cluster create --spec` validates it; its defaults filled in.
fn cluster_spec(account: &Account, name: &str, mut body: Value) -> Result<ClusterSpec, ApiError> {
    let Some(object) = body.as_object_mut() else {
        return Err(ApiError::invalid("body", "must be a JSON object: the cluster spec"));
    };
    match object.get("name") {
        None => {
            object.insert("name".into(), name.into());
        }
        Some(Value::String(n)) if n == name => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "name",
                format!("must be the cluster's name in the path, {name} (got {other})"),
            ));
        }
    }
    if !object.contains_key("region") {
        match account.regions.as_slice() {
            [only] => {
                object.insert("region".into(), only.clone().into());
            }
            several => {
                return Err(ApiError::invalid(
                    "region",
                    format!("required: account {} has several regions ({})", account.id, several.join(", ")),
                ))
            }
        }
    }
    let spec: ClusterSpec = typed(body, "the cluster spec")?;
    spec.validate().map_err(|e| ApiError::invalid(e.field, e.message))?;
    if !account.regions.contains(&spec.region) {
        return Err(ApiError::invalid(
            "region",
            format!(
                "must be one of account {}'s regions ({}), got {}",
                account.id,
                account.regions.join(", "),
                spec.region
            ),
        ));
    }
    Ok(spec)
}

/// The generation an `If-Match` (or `If-None-Match: *`) header asks for: `Some(0)` means
/// "only if it does not exist yet".
fn precondition(headers: &HeaderMap) -> Result<Option<Precondition>, ApiError> {
    if let Some(v) = headers.get(header::IF_NONE_MATCH) {
        return match v.to_str() {
            Ok("*") => Ok(Some(Precondition::Generation(0))),
            _ => Err(ApiError::invalid("If-None-Match", "only `*` (create, never replace) is supported")),
        };
    }
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = v.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(Some(Precondition::Exists));
    }
    let generation = text
        .strip_prefix("W/")
        .unwrap_or(text)
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .filter(|g| *g > 0);
    match generation {
        Some(g) => Ok(Some(Precondition::Generation(g))),
        None => Err(ApiError::invalid(
            "If-Match",
            format!("must be an ETag this API returned, such as \"3\" (got {text:?})"),
        )),
    }
}

enum Precondition {
    Generation(i64),
    Exists,
}

// ---- Output ----

/// Milliseconds since the epoch as RFC 3339 in UTC, e.g. `2026-12-07T10:00:00.250Z`.
pub fn rfc3339(millis: Millis) -> String {
    detcloud_policy::time::format_millis(millis)
}

fn time(t: Option<Millis>) -> Value {
    t.map_or(Value::Null, |t| Value::String(rfc3339(t)))
}

fn account_json(a: &Account) -> Value {
    json!({
        "id": a.id,
        "role_arn": a.role_arn,
        "external_id": a.external_id,
        "regions": a.regions,
        "paused": a.paused,
        "created_at": rfc3339(a.created_at),
        "updated_at": rfc3339(a.updated_at),
    })
}

fn etag(generation: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{generation}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// A cluster as the API shows it. A cluster whose deletion was asked shows `Deleting` at once.
pub fn cluster_json(view: &ClusterView) -> Value {
    let (r, s) = (&view.record, &view.status);
    let phase = if r.deletion_requested { Phase::Deleting } else { s.phase };
    json!({
        "account_id": r.account_id,
        "name": r.name,
        "region": r.region,
        "generation": r.generation,
        "spec": r.spec,
        "deletion_requested": r.deletion_requested,
        "purge": r.purge,
        "created_at": rfc3339(r.created_at),
        "updated_at": rfc3339(r.updated_at),
        "status": {
            "phase": phase.as_str(),
            "observed_generation": s.observed_generation,
            "conditions": s.conditions.iter().map(|c| json!({
                "type": c.kind, "status": c.status, "reason": c.reason, "message": c.message, "since": rfc3339(c.since),
            })).collect::<Vec<_>>(),
            "resources": s.resources.iter().map(|x| json!({
                "kind": x.kind, "id": x.id, "state": x.state, "healthy": x.healthy,
            })).collect::<Vec<_>>(),
            "master": s.master.as_ref().map(|m| json!({"public_ip": m.public_ip, "url": m.url})),
            "last_reconciled": time(s.last_reconciled),
            "last_error": s.last_error,
            "next_attempt": time(s.next_attempt),
            "failures": s.failures,
        },
    })
}

fn event_json(e: &Event) -> Value {
    json!({
        "id": e.id,
        "at": rfc3339(e.at),
        "account_id": e.account_id,
        "cluster": e.cluster,
        "reason": e.reason,
        "message": e.message,
        "actor": e.actor,
    })
}

fn json_answer(status: StatusCode, value: Value) -> Response {
    (status, axum::Json(value)).into_response()
}

// ---- Handlers ----

async fn list_accounts(State(api): State<Arc<Api>>, RawQuery(raw): RawQuery) -> Answer {
    query(raw, &[])?;
    let accounts = api.store.accounts().await?;
    Ok(json_answer(StatusCode::OK, json!({"items": accounts.iter().map(account_json).collect::<Vec<_>>()})))
}

async fn get_account(State(api): State<Arc<Api>>, Path(id): Path<String>) -> Answer {
    check_account_id(&id)?;
    Ok(json_answer(StatusCode::OK, account_json(&api.store.account(&id).await?)))
}

async fn put_account(
    State(api): State<Arc<Api>>,
    axum::Extension(Actor(actor)): axum::Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    check_account_id(&id)?;
    let body: AccountBody = typed(json_body(&api, &headers, body).await?, "the account")?;
    check_account(&id, &body)?;
    // A region cannot go while clusters live in it.
    if api.store.account(&id).await.is_ok() {
        let mut after: Option<String> = None;
        loop {
            let page = api.store.clusters(&id, after.as_deref(), 500).await?;
            if let Some(v) = page.items.iter().find(|v| !body.regions.contains(&v.record.region)) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!(
                        "regions: cluster {} lives in {}; delete it before removing the region",
                        v.record.name, v.record.region
                    ),
                )
                .on("regions"));
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    let input = AccountInput {
        role_arn: body.role_arn,
        external_id: body.external_id,
        regions: body.regions,
        paused: body.paused,
    };
    let (account, created) = api.store.put_account(&id, &input, &actor).await?;
    api.wake.notify_one();
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json_answer(status, account_json(&account)))
}

async fn delete_account(
    State(api): State<Arc<Api>>,
    axum::Extension(Actor(actor)): axum::Extension<Actor>,
    Path(id): Path<String>,
) -> Answer {
    check_account_id(&id)?;
    api.store.delete_account(&id, &actor).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_clusters(State(api): State<Arc<Api>>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Answer {
    check_account_id(&id)?;
    let params = query(raw, &["after", "limit"])?;
    let limit = limit(&params, 100, 500)?;
    api.store.account(&id).await?;
    let page = api.store.clusters(&id, params.get("after").map(String::as_str), limit).await?;
    Ok(json_answer(
        StatusCode::OK,
        json!({"items": page.items.iter().map(cluster_json).collect::<Vec<_>>(), "next": page.next}),
    ))
}

async fn get_cluster(State(api): State<Arc<Api>>, Path((id, name)): Path<(String, String)>) -> Answer {
    check_account_id(&id)?;
    check_name(&name)?;
    let view = api.store.cluster(&id, &name).await?;
    let mut response = json_answer(StatusCode::OK, cluster_json(&view));
    response.headers_mut().insert(header::ETAG, etag(view.record.generation));
    Ok(response)
}

async fn put_cluster(
    State(api): State<Arc<Api>>,
    axum::Extension(Actor(actor)): axum::Extension<Actor>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    check_account_id(&id)?;
    check_name(&name)?;
    let precondition = precondition(&headers)?;
    let body: Value = json_body(&api, &headers, body).await?;
    let account = api.store.account(&id).await?;
    let spec = cluster_spec(&account, &name, body)?;
    let if_match = match precondition {
        None => None,
        Some(Precondition::Generation(g)) => Some(g),
        Some(Precondition::Exists) => match api.store.cluster(&id, &name).await {
            Ok(view) => Some(view.record.generation),
            Err(StoreError::NotFound { what }) => {
                return Err(ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "precondition_failed",
                    format!("If-Match: *: {what}"),
                )
                .on("If-Match"))
            }
            Err(e) => return Err(e.into()),
        },
    };
    let spec_json = serde_json::to_value(&spec)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("spec: {e}")))?;
    let input = ClusterInput { region: spec.region.clone(), spec: spec_json };
    let header_used = if headers.contains_key(header::IF_NONE_MATCH) { "If-None-Match" } else { "If-Match" };
    let outcome = api
        .store
        .put_cluster(&id, &name, &input, if_match, &actor)
        .await
        .map_err(|e| ApiError::from(e).on_precondition(header_used))?;
    if outcome.changed {
        api.wake.notify_one();
    }
    let record = &outcome.record;
    let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
    let mut response =
        json_answer(status, json!({"name": record.name, "generation": record.generation, "spec": record.spec}));
    response.headers_mut().insert(header::ETAG, etag(record.generation));
    Ok(response)
}

async fn delete_cluster(
    State(api): State<Arc<Api>>,
    axum::Extension(Actor(actor)): axum::Extension<Actor>,
    Path((id, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Answer {
    check_account_id(&id)?;
    check_name(&name)?;
    let params = query(raw, &["purge"])?;
    let purge = match params.get("purge").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ApiError::invalid("purge", format!("must be true or false (got {other:?})"))),
    };
    api.store.request_deletion(&id, &name, purge, &actor).await?;
    api.wake.notify_one();
    let view = api.store.cluster(&id, &name).await?;
    Ok(json_answer(StatusCode::ACCEPTED, cluster_json(&view)))
}

async fn list_events(State(api): State<Arc<Api>>, RawQuery(raw): RawQuery) -> Answer {
    let params = query(raw, &["after", "limit"])?;
    let after =
        match params.get("after") {
            None => 0,
            Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::invalid("after", format!("must be an event id, a whole number (got {v:?})"))
            })?,
        };
    let limit = limit(&params, 100, 1000)?;
    let events = api.store.events(after, limit).await?;
    let next = events.last().map_or(after, |e| e.id);
    Ok(json_answer(StatusCode::OK, json!({"items": events.iter().map(event_json).collect::<Vec<_>>(), "next": next})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_250), "2000-02-29T00:00:00.250Z");
        assert_eq!(rfc3339(1_796_601_600_000), "2026-12-07T00:00:00.000Z");
        let t = detcloud_cluster::operate::parse_time("2026-12-07T10:11:12Z").unwrap().unwrap();
        let ms = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        assert_eq!(rfc3339(ms), "2026-12-07T10:11:12.000Z");
    }

    #[test]
    fn queries_refuse_unknown_and_repeated_parameters() {
        let q = query(Some("after=a%20b&limit=5".into()), &["after", "limit"]).unwrap();
        assert_eq!(q["after"], "a b");
        assert_eq!(limit(&q, 100, 500).unwrap(), 5);
        assert_eq!(query(Some("x=1".into()), &["after"]).unwrap_err().field.as_deref(), Some("x"));
        assert_eq!(query(Some("after=1&after=2".into()), &["after"]).unwrap_err().field.as_deref(), Some("after"));
        let q = query(Some("limit=0".into()), &["limit"]).unwrap();
        assert_eq!(limit(&q, 100, 500).unwrap_err().field.as_deref(), Some("limit"));
    }
}
