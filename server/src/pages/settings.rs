//! What the pages need to know about how they are served: whether cookies
//! must be `Secure` (the service is reached over HTTPS), and Stripe's
//! publishable key when payments are on (Stripe.js is loaded only then).

/// How the pages are served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageSettings {
    /// Mark the session and CSRF cookies `Secure` (set when the public URL is HTTPS).
    pub secure_cookies: bool,
    /// Stripe's publishable key (`pk_...`): the pages load Stripe.js and take
    /// card payments only when it is set.
    pub stripe_publishable_key: Option<String>,
}

impl PageSettings {
    /// Settings for a service whose public base URL is `public_url`.
    pub fn for_public_url(public_url: &str, stripe_publishable_key: Option<String>) -> Self {
        PageSettings {
            secure_cookies: public_url
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")),
            stripe_publishable_key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_behind_https_only() {
        assert!(PageSettings::for_public_url("https://droply.example", None).secure_cookies);
        assert!(PageSettings::for_public_url("HTTPS://droply.example", None).secure_cookies);
        assert!(!PageSettings::for_public_url("http://localhost:8080", None).secure_cookies);
        assert!(!PageSettings::for_public_url("", None).secure_cookies);
    }
}
