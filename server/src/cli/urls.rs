//! The URL flags of `droply serve`, each checked once, when the flags are
//! read: the public URL ([`PublicUrl`]: `http` or `https`, a host, no
//! credentials, query or fragment; surrounding spaces and trailing slashes
//! dropped), and the base URLs of the outside services Droply calls with its
//! secrets (Stripe, Daily.co, Google: [`parse_service_url`]), which are
//! `https`, or plain `http` only to a loopback host (the tests' fakes), so
//! that no key or token crosses the network in clear. A refusal never
//! quotes credentials written into the URL ([`url_flag`], [`shown`]).

use std::fmt;
use std::net::IpAddr;

use super::secret_values::Unechoed;

/// The service's public base URL (`--public-url`), checked: the page
/// settings (`Secure` cookies, the public origin) and Stripe's onboarding
/// links are all made from this one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// `text` as a public URL: `http://` or `https://` (any case), a host
    /// (and a port), no credentials, no query, no fragment; spaces around it
    /// and trailing slashes are dropped, the scheme is lowercased.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (scheme, rest, _host) = split_url(text)?;
        if rest.contains(['?', '#']) {
            return Err(format!(
                "{text:?} has a query or a fragment: give the service's base URL only"
            ));
        }
        Ok(PublicUrl(format!(
            "{scheme}://{}",
            rest.trim_end_matches('/')
        )))
    }

    /// The URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An outside service's URL (`--stripe-api-base`, `--daily-api-base`,
/// `--google-*-url`, `--google-api-base`), trimmed: `https`, or plain `http`
/// to a loopback host only (`localhost`, `127.0.0.0/8`, `[::1]`, `[::ffff:127.0.0.1]`).
pub fn parse_service_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let (scheme, _rest, host) = split_url(text)?;
    if scheme == "http" && !is_loopback(host) {
        return Err(format!(
            "{:?} is plain http to another machine: the keys and tokens sent there \
             would cross the network in clear; use https (plain http is for a loopback \
             host only, such as a local fake)",
            shown(text)
        ));
    }
    Ok(text.to_owned())
}

/// The clap parser of a URL flag: `parse` (such as [`parse_service_url`]
/// or [`PublicUrl::parse`]) in an [`Unechoed`] parser, whose refusal names
/// the flag but does not quote the value as clap's own message for a
/// parser's refusal does (a URL written with credentials would be echoed to
/// the terminal and the logs); `parse`'s messages quote the URL through
/// [`shown`].
pub fn url_flag<T>(parse: fn(&str) -> Result<T, String>) -> Unechoed<T> {
    Unechoed::new(parse)
}

/// `text` as a refusal may quote it: anything between `://` and the last
/// `@` before a query or fragment (a user name and password, which may hold
/// an unescaped `/`) is replaced by `***`; an `@` in a path hides more than
/// it must, never less.
pub fn shown(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let before_query = rest.find(['?', '#']).unwrap_or(rest.len());
    match rest[..before_query].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => text.to_owned(),
    }
}

/// `text`'s scheme (lowercased; `http` or `https`), what follows `://`,
/// and the host (an IPv6 address without its brackets).
fn split_url(text: &str) -> Result<(String, &str, &str), String> {
    let quoted = shown(text);
    if text.chars().any(char::is_whitespace) {
        return Err(format!("{quoted:?} holds a space"));
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(format!(
            "{quoted:?} is not a URL: write it with its scheme, such as https://droply.example"
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("{quoted:?}: the scheme is http or https"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(format!(
            "{quoted:?} holds credentials (user@): leave them out"
        ));
    }
    let host =
        host_of(authority).ok_or_else(|| format!("{quoted:?} has no host (or a bad port)"))?;
    Ok((scheme, rest, host))
}

/// The host of `authority` (`host`, `host:port`, `[v6]` or `[v6]:port`)
/// without its port; `None` when the host is empty or the port is not one.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (v6, after) = bracketed.split_once(']')?;
            if after.is_empty() {
                (v6, None)
            } else {
                (v6, Some(after.strip_prefix(':')?))
            }
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() || port.is_some_and(|port| port.parse::<u16>().is_err()) {
        return None;
    }
    Some(host)
}

/// Whether `host` is this machine: `localhost` or a loopback address.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_url_is_trimmed_and_keeps_its_scheme_host_and_port() {
        for (given, kept) in [
            ("https://droply.example", "https://droply.example"),
            ("  https://droply.example/  ", "https://droply.example"),
            ("HTTPS://Droply.example/app/", "https://Droply.example/app"),
            ("http://localhost:8080", "http://localhost:8080"),
            ("http://[::1]:8080/", "http://[::1]:8080"),
        ] {
            assert_eq!(
                PublicUrl::parse(given).map(|url| url.to_string()),
                Ok(kept.to_owned())
            );
        }
    }

    /// Regression: `--public-url droply.example` was taken as it was:
    /// no `Secure` cookies, no public origin, and Stripe's onboarding sent
    /// people back to `droply.example/onboarding/...`, a relative URL.
    #[test]
    fn a_public_url_without_a_scheme_is_refused() {
        for bad in [
            "droply.example",
            "",
            "ftp://droply.example",
            "https://",
            "https:///path",
            "https://:8443",
            "https://droply.example:https",
            "https://droply.example/?x=1",
            "https://droply.example/#top",
            "https://user:pw@droply.example",
            "https://droply .example",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Regression: a URL flag's refusal quoted the value, so a URL written
    /// with a user name and password printed them (clap's message and ours).
    #[test]
    fn a_refused_url_flag_does_not_print_the_credentials_written_in_it() {
        use clap::Parser;

        use crate::cli::Cli;
        for (flag, url) in [
            ("--stripe-api-base", "http://ops:hunter2@10.0.0.7/"),
            ("--stripe-api-base", "https://ops:hunter2@api.stripe.com/"),
            ("--daily-api-base", "https://ops:hunter2@ bad/"),
            ("--google-token-url", "ftp://ops:hunter2@oauth2.example/"),
            ("--public-url", "https://ops:hunter2@droply.example/?x"),
            ("--stripe-api-base", "https://ops:hunt/er2@api.stripe.com/"),
        ] {
            let err = Cli::try_parse_from(["droply", "serve", flag, url])
                .expect_err(url)
                .to_string();
            assert!(err.contains(flag), "{err}");
            assert!(!err.contains("hunt"), "{err}");
        }
        assert_eq!(
            shown("https://ops:hunter2@host:9/a"),
            "https://***@host:9/a"
        );
        assert_eq!(shown("https://ops:pa/ss@host/"), "https://***@host/");
        assert_eq!(shown("https://host/a?b=c@d"), "https://host/a?b=c@d");
        assert_eq!(shown("https://host/a"), "https://host/a");
    }

    /// Regression: `--stripe-api-base http://stripe.internal/` was taken,
    /// and the secret key went over the network in clear.
    #[test]
    fn a_stripe_api_base_over_plain_http_to_another_host_is_refused() {
        for bad in [
            "http://api.stripe.com/",
            "http://10.0.0.7:8420/",
            "http://localhost.evil.example/",
            "stripe.example",
            "ftp://127.0.0.1/",
        ] {
            let err = parse_service_url(bad).expect_err(bad);
            assert!(!err.is_empty());
        }
        for good in [
            "https://api.stripe.com/",
            "http://127.0.0.1:8420/",
            "http://localhost:9/v1",
            "http://[::1]:9",
            "http://[::ffff:127.0.0.1]:9",
            " http://127.0.0.2:9 ",
        ] {
            assert_eq!(
                parse_service_url(good),
                Ok(good.trim().to_owned()),
                "{good:?}"
            );
        }
    }
}
