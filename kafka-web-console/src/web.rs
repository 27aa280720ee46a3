//! The HTTP side: axum routes for every page and its JSON twin under `/api`, the forms' POST
//! handlers (redirecting back, or showing a confirmation page first for deletes), the charts as
//! SVG, and the vendored assets. Errors become a readable HTML page or a JSON body
//! `{"error": ..., "message": ...}` with the status of the failure, never a panic.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::chart::{self, Series};
use crate::console::{Console, SCENARIOS};
use crate::error::ConsoleError;
use crate::guard::{self, Guard};
use crate::metrics::CHARTED;
use crate::pages::{
    path_segment, ChartRef, ConfirmPage, ErrorPage, GroupPage, GroupsPage, MessagesPage,
    OverviewPage, ResetForm, TopicPage, TopicsPage,
};
use crate::views::{HeaderInput, MessagesQuery, ProduceRequest, ResetRequest};

const CSS: &str = include_str!("../assets/console.css");
const JS: &str = include_str!("../assets/console.js");

type Shared = Arc<Console>;

/// Wall-clock ms since the epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A failure answered as JSON.
pub struct ApiError(ConsoleError);

impl From<ConsoleError> for ApiError {
    fn from(e: ConsoleError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.0.status.canonical_reason().unwrap_or("error"),
            "status": self.0.status.as_u16(),
            "message": self.0.message,
        });
        (self.0.status, Json(body)).into_response()
    }
}

/// A failure answered as an HTML page.
pub struct PageError(ConsoleError);

impl From<ConsoleError> for PageError {
    fn from(e: ConsoleError) -> Self {
        PageError(e)
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError(ConsoleError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("rendering the page failed: {e}"),
        ))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status;
        let page = ErrorPage {
            title: "Error".to_string(),
            nav: "",
            status: format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            ),
            message: self.0.message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, page.message).into_response(),
        }
    }
}

/// A JSON body whose rejections (bad JSON, a missing field, the wrong Content-Type) are
/// answered as the API's JSON errors rather than axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(ApiError(ConsoleError::new(r.status(), r.body_text()))),
        }
    }
}

/// A query string whose rejections (a bad or repeated parameter) are JSON errors.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(r) => Err(ApiError(ConsoleError::new(r.status(), r.body_text()))),
        }
    }
}

/// A form body whose rejections (a missing field...) are the console's HTML error page.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(v)) => Ok(PageForm(v)),
            Err(r) => Err(PageError(ConsoleError::new(r.status(), r.body_text()))),
        }
    }
}

/// A query string whose rejections are the console's HTML error page.
pub struct PageQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for PageQuery<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(PageQuery(v)),
            Err(r) => Err(PageError(ConsoleError::new(r.status(), r.body_text()))),
        }
    }
}

/// An error answered as JSON under `/api/`, as an HTML page elsewhere.
fn error_for(path: &str, e: ConsoleError) -> Response {
    if path == "/api" || path.starts_with("/api/") {
        ApiError(e).into_response()
    } else {
        PageError(e).into_response()
    }
}

type PageResult = Result<Response, PageError>;
type ApiResult<T> = Result<Json<T>, ApiError>;

fn html(t: impl Template) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

/// The console's routes over `console`, behind the CSRF / DNS rebinding checks of `guard`.
pub fn router(console: Shared, guard: Guard) -> Router {
    Router::new()
        .route("/", get(overview_page))
        .route("/api/overview", get(overview_api))
        .route("/topics", get(topics_page).post(create_topic_form))
        .route("/api/topics", get(topics_api).post(create_topic_api))
        .route("/topics/{topic}", get(topic_page))
        .route(
            "/api/topics/{topic}",
            get(topic_api).delete(delete_topic_api),
        )
        .route("/topics/{topic}/delete", post(delete_topic_form))
        .route("/topics/{topic}/configs", post(alter_config_form))
        .route("/api/topics/{topic}/configs", post(alter_config_api))
        .route(
            "/topics/{topic}/messages",
            get(messages_page).post(produce_form),
        )
        .route(
            "/api/topics/{topic}/messages",
            get(messages_api).post(produce_api),
        )
        .route("/groups", get(groups_page))
        .route("/api/groups", get(groups_api))
        .route("/groups/{group}", get(group_page))
        .route("/api/groups/{group}", get(group_api))
        .route("/groups/{group}/lag.svg", get(lag_chart))
        .route("/groups/{group}/reset", post(reset_form))
        .route("/api/groups/{group}/reset", post(reset_api))
        .route("/metrics/{chart}", get(metrics_chart))
        .route("/api/metrics", get(metrics_api))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(uniform_errors))
        .layer(axum::middleware::from_fn_with_state(guard, check_request))
        .with_state(console)
}

/// The middleware of [`guard::check`].
async fn check_request(State(g): State<Guard>, request: Request, next: Next) -> Response {
    match guard::check(request.method(), request.headers(), g) {
        Ok(()) => next.run(request).await,
        Err(e) => error_for(request.uri().path(), e),
    }
}

/// The safety net under the extractors' own mapping: an error answered in another form (an axum
/// rejection's plain text, such as a path that is not UTF-8) becomes the API's JSON error under
/// `/api/` and the HTML error page elsewhere.
async fn uniform_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_api = path == "/api" || path.starts_with("/api/");
    let expected = if is_api {
        "application/json"
    } else {
        "text/html"
    };
    if content_type.starts_with(expected) {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_string();
    let text = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_string()
    } else {
        text
    };
    error_for(&path, ConsoleError::new(status, text))
}

/// The same path without its trailing slash(es) (and with its query), when it has any.
///
/// The target always starts with exactly one `/`: leading slashes and backslashes are collapsed,
/// since `//evil.example` (or `/\evil.example`, which browsers read alike) in a `Location` is
/// another site, and a link to `http://localhost:8080//evil.example/` would send the browser
/// there (an open redirect).
fn slashless(uri: &Uri) -> Option<String> {
    let path = uri.path();
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() || trimmed.len() == path.len() {
        return None;
    }
    let trimmed = format!("/{}", trimmed.trim_start_matches(['/', '\\']));
    Some(match uri.query() {
        Some(q) => format!("{trimmed}?{q}"),
        None => trimmed.to_string(),
    })
}

async fn not_found(method: axum::http::Method, uri: Uri) -> Response {
    if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        if let Some(to) = slashless(&uri) {
            return Redirect::permanent(&to).into_response();
        }
    }
    error_for(
        uri.path(),
        ConsoleError::not_found(format!("No page at {}", uri.path())),
    )
}

async fn method_not_allowed(method: axum::http::Method, uri: Uri) -> Response {
    error_for(
        uri.path(),
        ConsoleError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} is not allowed on {}", method, uri.path()),
        ),
    )
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
        .into_response()
}

fn svg(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

// ---- overview ----------------------------------------------------------------------------------

async fn overview_page(State(c): State<Shared>) -> PageResult {
    let v = c.overview().await?;
    let charts = if v.metrics_urls.is_empty() {
        Vec::new()
    } else {
        CHARTED
            .iter()
            .map(|m| ChartRef {
                src: format!("/metrics/{}.svg", m.id),
                title: m.title.to_string(),
            })
            .collect()
    };
    html(OverviewPage {
        title: "Overview".to_string(),
        nav: "overview",
        v: &v,
        charts,
    })
}

async fn overview_api(State(c): State<Shared>) -> ApiResult<crate::views::OverviewView> {
    Ok(Json(c.overview().await?))
}

async fn metrics_chart(State(c): State<Shared>, Path(chart): Path<String>) -> Response {
    let id = chart.strip_suffix(".svg").unwrap_or(&chart);
    let Some(m) = CHARTED.iter().find(|m| m.id == id) else {
        return PageError(ConsoleError::not_found(format!("No chart {chart}"))).into_response();
    };
    let series: Vec<Series> = c
        .metrics
        .rates(m.id)
        .into_iter()
        .map(|(url, points)| Series { name: url, points })
        .collect();
    svg(chart::line_chart(m.title, m.unit, &series, now_ms()))
}

async fn metrics_api(State(c): State<Shared>) -> Json<serde_json::Value> {
    let rates: serde_json::Map<String, serde_json::Value> = CHARTED
        .iter()
        .map(|m| {
            let per_endpoint: Vec<serde_json::Value> = c
                .metrics
                .rates(m.id)
                .into_iter()
                .map(|(url, points)| json!({"url": url, "points": points}))
                .collect();
            (
                m.id.to_string(),
                json!({"title": m.title, "unit": m.unit, "rates": per_endpoint}),
            )
        })
        .collect();
    Json(json!({"endpoints": c.metrics.snapshot(), "rates": rates}))
}

// ---- topics ------------------------------------------------------------------------------------

async fn topics_page(State(c): State<Shared>) -> PageResult {
    let v = c.topics().await?;
    html(TopicsPage {
        title: "Topics".to_string(),
        nav: "topics",
        v: &v,
        flash: None,
    })
}

async fn topics_api(State(c): State<Shared>) -> ApiResult<crate::views::TopicsView> {
    Ok(Json(c.topics().await?))
}

/// The create-topic form; empty counts mean the broker's defaults.
#[derive(Debug, Deserialize)]
pub struct CreateTopicForm {
    pub name: String,
    pub partitions: Option<String>,
    pub replication_factor: Option<String>,
}

fn opt_number<T: std::str::FromStr>(
    v: &Option<String>,
    what: &str,
) -> Result<Option<T>, ConsoleError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ConsoleError::bad_request(format!("Invalid {what}: {s}"))),
    }
}

async fn create_topic_form(
    State(c): State<Shared>,
    PageForm(f): PageForm<CreateTopicForm>,
) -> PageResult {
    let partitions = opt_number(&f.partitions, "number of partitions")?;
    let rf = opt_number(&f.replication_factor, "replication factor")?;
    c.create_topic(&f.name, partitions, rf).await?;
    let name = f.name.trim();
    let token = c.flashes.put(format!("Topic {name} created."));
    Ok(Redirect::to(&format!("/topics/{}?flash={token}", path_segment(name))).into_response())
}

/// `POST /api/topics`: `{"name": "t", "partitions": 3, "replication_factor": 1}`.
#[derive(Debug, Deserialize)]
pub struct CreateTopicJson {
    pub name: String,
    pub partitions: Option<i32>,
    pub replication_factor: Option<i16>,
}

async fn create_topic_api(
    State(c): State<Shared>,
    ApiJson(body): ApiJson<CreateTopicJson>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    c.create_topic(&body.name, body.partitions, body.replication_factor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"created": body.name.trim()})),
    ))
}

async fn topic_page(
    State(c): State<Shared>,
    Path(topic): Path<String>,
    PageQuery(q): PageQuery<HashMap<String, String>>,
) -> PageResult {
    let v = c.topic(&topic).await?;
    let flash = q.get("flash").and_then(|t| c.flashes.take(t));
    html(TopicPage {
        title: format!("Topic {topic}"),
        nav: "topics",
        v: &v,
        flash,
    })
}

async fn topic_api(
    State(c): State<Shared>,
    Path(topic): Path<String>,
) -> ApiResult<crate::views::TopicView> {
    Ok(Json(c.topic(&topic).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    pub confirm: Option<String>,
}

fn confirmed(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("yes") | Some("true") | Some("on"))
}

async fn delete_topic_form(
    State(c): State<Shared>,
    Path(topic): Path<String>,
    PageForm(f): PageForm<ConfirmForm>,
) -> PageResult {
    crate::console::check_deletable(&topic)?;
    if !confirmed(&f.confirm) {
        return html(ConfirmPage {
            title: "Confirm".to_string(),
            nav: "topics",
            question: format!("Delete topic {topic} and all its messages? This cannot be undone."),
            action: format!("/topics/{}/delete", path_segment(&topic)),
            back: format!("/topics/{}", path_segment(&topic)),
        });
    }
    c.delete_topic(&topic).await?;
    let v = c.topics().await?;
    html(TopicsPage {
        title: "Topics".to_string(),
        nav: "topics",
        v: &v,
        flash: Some(format!("Topic {topic} deleted.")),
    })
}

async fn delete_topic_api(
    State(c): State<Shared>,
    Path(topic): Path<String>,
    ApiQuery(f): ApiQuery<ConfirmForm>,
) -> ApiResult<serde_json::Value> {
    crate::console::check_deletable(&topic)?;
    if !confirmed(&f.confirm) {
        return Err(ConsoleError::bad_request(
            "Deleting a topic needs confirmation: add ?confirm=true.",
        )
        .into());
    }
    c.delete_topic(&topic).await?;
    Ok(Json(json!({"deleted": topic})))
}

#[derive(Debug, Deserialize)]
pub struct ConfigForm {
    pub name: String,
    pub value: Option<String>,
    /// `set` (default) or `delete`.
    pub action: Option<String>,
}

async fn alter_config_form(
    State(c): State<Shared>,
    Path(topic): Path<String>,
    PageForm(f): PageForm<ConfigForm>,
) -> PageResult {
    let value = match f.action.as_deref() {
        Some("delete") => None,
        None | Some("set") => Some(f.value.as_deref().unwrap_or("")),
        Some(other) => {
            return Err(ConsoleError::bad_request(format!(
                "Unknown action '{other}': expected set or delete."
            ))
            .into())
        }
    };
    c.alter_topic_config(&topic, &f.name, value).await?;
    let token = c.flashes.put("Config changed.".to_string());
    Ok(Redirect::to(&format!(
        "/topics/{}?flash={token}#configs",
        path_segment(&topic)
    ))
    .into_response())
}

/// `POST /api/topics/{t}/configs`: `{"name": "retention.ms", "value": "1000"}`; a null or
/// absent value deletes the override.
#[derive(Debug, Deserialize)]
pub struct ConfigJson {
    pub name: String,
    pub value: Option<String>,
}

async fn alter_config_api(
    State(c): State<Shared>,
    Path(topic): Path<String>,
    ApiJson(body): ApiJson<ConfigJson>,
) -> ApiResult<serde_json::Value> {
    c.alter_topic_config(&topic, &body.name, body.value.as_deref())
        .await?;
    Ok(Json(
        json!({"topic": topic, "name": body.name, "value": body.value}),
    ))
}

// ---- messages ----------------------------------------------------------------------------------

async fn messages_page(
    State(c): State<Shared>,
    Path(topic): Path<String>,
    PageQuery(q): PageQuery<MessagesQuery>,
) -> PageResult {
    let v = c.messages(&topic, &q).await?;
    let flash = q.flash.as_deref().and_then(|t| c.flashes.take(t));
    html(MessagesPage {
        title: format!("Messages of {topic}"),
        nav: "topics",
        v: &v,
        timestamp: q.timestamp.clone().unwrap_or_default(),
        flash,
    })
}

async fn messages_api(
    State(c): State<Shared>,
    Path(topic): Path<String>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> ApiResult<crate::views::MessagesView> {
    Ok(Json(c.messages(&topic, &q).await?))
}

#[derive(Debug, Deserialize)]
pub struct ProduceForm {
    pub partition: Option<String>,
    pub key: Option<String>,
    pub value: Option<String>,
    /// `key=value` lines.
    pub headers: Option<String>,
}

/// `key=value` lines; a line without `=` is a header with a null value.
fn parse_header_lines(text: &str) -> Vec<HeaderInput> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) => HeaderInput {
                key: k.trim().to_string(),
                value: Some(v.to_string()),
            },
            None => HeaderInput {
                key: l.trim().to_string(),
                value: None,
            },
        })
        .collect()
}

async fn produce_form(
    State(c): State<Shared>,
    Path(topic): Path<String>,
    PageForm(f): PageForm<ProduceForm>,
) -> PageResult {
    let request = ProduceRequest {
        partition: opt_number(&f.partition, "partition")?,
        key: f.key.filter(|k| !k.is_empty()),
        value: f.value,
        headers: parse_header_lines(f.headers.as_deref().unwrap_or("")),
    };
    let produced = c.produce(&topic, request).await?;
    // Post/redirect/get: reloading the page it lands on reads the record again instead of
    // producing it a second time.
    let token = c.flashes.put(format!(
        "Produced to partition {} at offset {}.",
        produced.partition, produced.offset
    ));
    Ok(Redirect::to(&format!(
        "/topics/{}/messages?partition={}&offset={}&flash={token}",
        path_segment(&topic),
        produced.partition,
        produced.offset
    ))
    .into_response())
}

async fn produce_api(
    State(c): State<Shared>,
    Path(topic): Path<String>,
    ApiJson(body): ApiJson<ProduceRequest>,
) -> Result<(StatusCode, Json<crate::views::ProducedView>), ApiError> {
    Ok((StatusCode::CREATED, Json(c.produce(&topic, body).await?)))
}

// ---- groups ------------------------------------------------------------------------------------

async fn groups_page(State(c): State<Shared>) -> PageResult {
    let v = c.groups().await?;
    html(GroupsPage {
        title: "Consumer groups".to_string(),
        nav: "groups",
        v: &v,
    })
}

async fn groups_api(State(c): State<Shared>) -> ApiResult<crate::views::GroupsView> {
    Ok(Json(c.groups().await?))
}

async fn render_group(
    c: &Console,
    group: &str,
    form: ResetForm,
    reset: Result<Option<crate::views::ResetView>, ConsoleError>,
) -> PageResult {
    let v = c.group(group).await?;
    let (reset, reset_error, status) = match reset {
        Ok(r) => (r, None, StatusCode::OK),
        Err(e) => (None, Some(e.message), e.status),
    };
    let page = GroupPage {
        title: format!("Group {group}"),
        nav: "groups",
        v: &v,
        path: path_segment(group),
        form,
        reset,
        reset_error,
        scenarios: SCENARIOS,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn group_page(State(c): State<Shared>, Path(group): Path<String>) -> PageResult {
    render_group(
        &c,
        &group,
        ResetForm {
            scenario: "to-earliest".to_string(),
            ..Default::default()
        },
        Ok(None),
    )
    .await
}

async fn group_api(
    State(c): State<Shared>,
    Path(group): Path<String>,
) -> ApiResult<crate::views::GroupView> {
    Ok(Json(c.group(&group).await?))
}

async fn lag_chart(State(c): State<Shared>, Path(group): Path<String>) -> Response {
    let history = c.lag_sample(&group).await;
    let series = [Series {
        name: "total lag".to_string(),
        points: history.into_iter().map(|(t, v)| (t, v as f64)).collect(),
    }];
    svg(chart::line_chart(
        &format!("Lag of {group}"),
        "messages",
        &series,
        now_ms(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct ResetFormInput {
    pub topic: Option<String>,
    pub scenario: String,
    pub value: Option<String>,
    /// `preview` (default) or `execute`.
    pub action: Option<String>,
    pub confirm: Option<String>,
}

async fn reset_form(
    State(c): State<Shared>,
    Path(group): Path<String>,
    PageForm(f): PageForm<ResetFormInput>,
) -> PageResult {
    let execute = f.action.as_deref() == Some("execute");
    let form = ResetForm {
        topic: f.topic.clone().unwrap_or_default(),
        scenario: f.scenario.clone(),
        value: f.value.clone().unwrap_or_default(),
    };
    let result = if execute && !confirmed(&f.confirm) {
        Err(ConsoleError::bad_request(
            "Executing a reset needs confirmation: preview it first, then execute.",
        ))
    } else {
        c.reset(
            &group,
            &ResetRequest {
                topic: f.topic,
                scenario: f.scenario,
                value: f.value,
                execute,
            },
        )
        .await
        .map(Some)
    };
    render_group(&c, &group, form, result).await
}

async fn reset_api(
    State(c): State<Shared>,
    Path(group): Path<String>,
    ApiJson(body): ApiJson<ResetRequest>,
) -> ApiResult<crate::views::ResetView> {
    Ok(Json(c.reset(&group, &body).await?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_split_at_the_first_equals_sign() {
        let h = parse_header_lines("a=1\r\nb=x=y\n\nflag\n");
        assert_eq!(h.len(), 3);
        assert_eq!((h[0].key.as_str(), h[0].value.as_deref()), ("a", Some("1")));
        assert_eq!(
            (h[1].key.as_str(), h[1].value.as_deref()),
            ("b", Some("x=y"))
        );
        assert_eq!((h[2].key.as_str(), h[2].value.as_deref()), ("flag", None));
    }

    #[test]
    fn trailing_slashes_redirect_to_the_slashless_path() {
        let uri: Uri = "/topics/".parse().unwrap();
        assert_eq!(slashless(&uri).as_deref(), Some("/topics"));
        let uri: Uri = "/groups//?x=1".parse().unwrap();
        assert_eq!(slashless(&uri).as_deref(), Some("/groups?x=1"));
        assert_eq!(slashless(&"/".parse().unwrap()), None);
        assert_eq!(slashless(&"/topics".parse().unwrap()), None);
        // Never to another site: `//host` and `/\host` in a Location leave the console.
        for (from, to) in [
            ("//evil.example/", "/evil.example"),
            ("//evil.example/x/?a=b", "/evil.example/x?a=b"),
            ("/\\evil.example/", "/evil.example"),
            ("/\\/evil.example/", "/evil.example"),
            ("///topics/", "/topics"),
        ] {
            let uri: Uri = from.parse().unwrap();
            assert_eq!(slashless(&uri).as_deref(), Some(to), "{from}");
        }
    }

    #[test]
    fn api_errors_are_json_and_pages_html() {
        let r = error_for("/api/topics", ConsoleError::bad_request("x"));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let r = error_for("/topics", ConsoleError::bad_request("x"));
        assert!(r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
}
