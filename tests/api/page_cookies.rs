//! What the page tests share: reading the cookies an answer sets, and a
//! browser's first visit, which gives it its CSRF token.

use crate::app::{Response, TestApp};

/// Every `Set-Cookie` value of an answer.
pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.trim().to_owned())
        .collect()
}

/// The value cookie `name` is set to in `response`.
pub fn cookie_value(response: &Response, name: &str) -> Option<String> {
    set_cookies(response).into_iter().find_map(|cookie| {
        let (pair, _) = cookie.split_once(';').unwrap_or((&cookie, ""));
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

/// A browser's CSRF token, from its first page.
pub fn csrf(app: &TestApp) -> String {
    let page = app.send("GET", "/signin", None, None, &[]);
    assert_eq!(page.status, 200, "{}", page.raw);
    cookie_value(&page, "droply_csrf").expect("a CSRF cookie")
}
