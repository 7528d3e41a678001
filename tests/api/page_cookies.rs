//! What the page tests share: reading the cookies an answer sets, a
//! browser's first visit, which gives it its CSRF token, the token a page
//! gives a signed-in browser, and a browser's
//! WebSocket handshake with the headers it sends.

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::app::{Response, TestApp};
use crate::live_client::runtime;

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

/// The CSRF token the account page gives a signed-in browser sending
/// `cookie`: its session's, not its cookie's.
pub fn page_csrf(app: &TestApp, cookie: &str) -> String {
    let page = app.send("GET", "/account", None, None, &[("Cookie", cookie)]);
    assert_eq!(page.status, 200, "{}", page.raw);
    let marker = "name=\"csrf-token\" content=\"";
    let at = page.raw.find(marker).expect("the page's token") + marker.len();
    page.raw[at..].split('"').next().expect("token").to_owned()
}

/// A WebSocket handshake to `path` with `headers`; the status it got.
pub fn handshake(
    app: &TestApp,
    path: &str,
    headers: &[(&'static str, String)],
) -> (u16, Option<Value>) {
    let mut request = format!("ws://{}{path}", app.addr)
        .into_client_request()
        .expect("request");
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, value.parse().expect("header"));
    }
    runtime().block_on(async {
        match connect_async(request).await {
            Ok((mut ws, response)) => {
                let first = ws.next().await.and_then(|m| m.ok()).and_then(|m| {
                    m.into_text()
                        .ok()
                        .and_then(|t| serde_json::from_str(&t).ok())
                });
                (response.status().as_u16(), first)
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                (response.status().as_u16(), None)
            }
            Err(err) => panic!("handshake {path}: {err}"),
        }
    })
}
