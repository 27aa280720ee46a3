//! The HTML pages: askama templates (in `templates/`, compiled into the binary and HTML-escaped
//! by default, so every name, key, value and header from the cluster is shown as text) over the
//! views of `console`.

use askama::Template;

use crate::views::{
    GroupView, GroupsView, MessagesView, OverviewView, ResetView, TopicView, TopicsView,
};

/// A chart on a page: the URL of its SVG (reloaded by the page's script) and its title.
pub struct ChartRef {
    pub src: String,
    pub title: String,
}

/// Percent-encodes a path segment (group names may hold any character).
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage<'a> {
    pub title: String,
    pub nav: &'static str,
    pub v: &'a OverviewView,
    pub charts: Vec<ChartRef>,
}

#[derive(Template)]
#[template(path = "topics.html")]
pub struct TopicsPage<'a> {
    pub title: String,
    pub nav: &'static str,
    pub v: &'a TopicsView,
    pub flash: Option<String>,
}

#[derive(Template)]
#[template(path = "topic.html")]
pub struct TopicPage<'a> {
    pub title: String,
    pub nav: &'static str,
    pub v: &'a TopicView,
    pub flash: Option<String>,
}

#[derive(Template)]
#[template(path = "messages.html")]
pub struct MessagesPage<'a> {
    pub title: String,
    pub nav: &'static str,
    pub v: &'a MessagesView,
    /// The `timestamp` field as the user typed it.
    pub timestamp: String,
    pub flash: Option<String>,
}

#[derive(Template)]
#[template(path = "groups.html")]
pub struct GroupsPage<'a> {
    pub title: String,
    pub nav: &'static str,
    pub v: &'a GroupsView,
}

/// The fields of a reset form, to fill the form again after a preview.
#[derive(Default)]
pub struct ResetForm {
    pub topic: String,
    pub scenario: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "group.html")]
pub struct GroupPage<'a> {
    pub title: String,
    pub nav: &'static str,
    pub v: &'a GroupView,
    pub path: String,
    pub form: ResetForm,
    pub reset: Option<ResetView>,
    pub reset_error: Option<String>,
    pub scenarios: &'static [&'static str],
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub title: String,
    pub nav: &'static str,
    pub question: String,
    pub action: String,
    pub back: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: String,
    pub nav: &'static str,
    pub status: String,
    pub message: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("my-group.1"), "my-group.1");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn error_pages_escape_what_they_show() {
        let page = ErrorPage {
            title: "Error".into(),
            nav: "",
            status: "404 Not Found".into(),
            message: "Topic '<script>' does not exist.".into(),
        };
        let html = page.render().unwrap();
        // askama escapes `<` and `>` as numeric character references.
        assert!(
            html.contains("Topic &#39;&#60;script&#62;&#39; does not exist."),
            "{html}"
        );
        assert!(!html.contains("<script>'"));
    }
}
