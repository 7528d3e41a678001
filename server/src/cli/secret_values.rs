//! Flags whose value may hold a secret: Stripe's keys, the webhook
//! secrets, Google's client secret, the token key, the ICE servers (a TURN
//! credential) and the store (`--store`, `migrate --from`/`--to`: a
//! PostgreSQL URL carries its password). clap's own errors repeat the value
//! they refuse (`invalid value 'postgress://droply:s3cret@db/d'`), so these
//! flags are read by [`Unechoed`] parsers, whose errors name the flag and
//! what is wrong, never the value, whether it came from the command line or
//! from the environment. The URL flags are read by them too
//! (`super::urls::url_flag`): no secret, but a URL may be written with one.

use std::ffi::OsStr;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use droply_engine::store::StoreLocation;
use secrecy::SecretString;

/// A value parser whose errors never repeat the value: they name the flag
/// and give `parse`'s reason, which quotes no more of it than it chooses
/// (the URL flags' reasons quote a URL with its credentials masked:
/// `super::urls::shown`).
#[derive(Clone)]
pub struct Unechoed<T> {
    parse: fn(&str) -> Result<T, String>,
    /// Said after the flag's name: why the value is not quoted.
    aside: &'static str,
}

/// The `aside` of a flag that may hold a secret.
const MAY_HOLD_A_SECRET: &str = " (not shown, it may hold a secret)";

impl<T> Unechoed<T> {
    /// A parser of a flag that is no secret but may be written with one
    /// (a URL with a user name and password): its refusals say only
    /// `parse`'s reason.
    pub fn new(parse: fn(&str) -> Result<T, String>) -> Self {
        Unechoed { parse, aside: "" }
    }

    /// A parser of a flag that may hold a secret.
    fn secret(parse: fn(&str) -> Result<T, String>) -> Self {
        Unechoed {
            parse,
            aside: MAY_HOLD_A_SECRET,
        }
    }
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Unechoed<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let refused = |why: &str| {
            let flag = arg.map_or_else(|| "an argument".to_owned(), ToString::to_string);
            clap::Error::raw(
                ErrorKind::ValueValidation,
                format!("invalid value for '{flag}'{}: {why}\n", self.aside),
            )
            .with_cmd(cmd)
        };
        let text = value.to_str().ok_or_else(|| refused("not UTF-8"))?;
        (self.parse)(text).map_err(|why| refused(&why))
    }
}

/// A secret flag (a key, a webhook secret, a client secret): anything but blank.
pub fn secret() -> Unechoed<SecretString> {
    Unechoed::secret(|text| {
        if text.trim().is_empty() {
            return Err("must not be empty".to_owned());
        }
        Ok(SecretString::from(text.to_owned()))
    })
}

/// A store: `sled:DIR` or a `postgres://` URL ([`StoreLocation::parse`]).
pub fn store_location() -> Unechoed<StoreLocation> {
    Unechoed::secret(|text| {
        StoreLocation::parse(text).map_err(|_| {
            let scheme = text
                .trim()
                .split_once("://")
                .map(|(scheme, _)| scheme)
                .filter(|scheme| {
                    scheme.len() <= 16 && scheme.bytes().all(|b| b.is_ascii_alphanumeric())
                });
            match scheme {
                Some(scheme) => format!(
                    "`{scheme}://` is not a store; a store is `sled:DIR` or a `postgres://` URL"
                ),
                None => "a store is `sled:DIR` or a `postgres://` URL".to_owned(),
            }
        })
    })
}

/// The ICE servers of the call page, as JSON ([`crate::pages::ice_servers_json`]).
pub fn ice_servers() -> Unechoed<String> {
    Unechoed::secret(crate::pages::ice_servers_json)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::{CommandFactory, Parser};

    use crate::cli::Cli;

    /// The flags read by an [`super::Unechoed`] parser that also take their
    /// value from the environment (`migrate --from`/`--to` take none).
    const SECRET_FLAGS: [&str; 9] = [
        "store",
        "stripe_secret_key",
        "stripe_webhook_secret",
        "stripe_connect_webhook_secret",
        "daily_api_key",
        "daily_webhook_secret",
        "google_client_secret",
        "secret_key",
        "webrtc_ice_servers",
    ];

    /// Adds to `seen` the secret flags of `cmd` and of its subcommands,
    /// and to `shown` those whose environment value `--help` would print.
    fn walk(cmd: &clap::Command, seen: &mut BTreeSet<String>, shown: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if SECRET_FLAGS.contains(&id) {
                seen.insert(id.to_owned());
                if !arg.is_hide_env_values_set() {
                    shown.push(format!("{} --{id}", cmd.get_name()));
                }
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, seen, shown);
        }
    }

    /// Regression: `--webrtc-ice-servers` (a TURN credential) lacked
    /// `hide_env_values`, so `droply serve --help` printed
    /// `DROPLY_WEBRTC_ICE_SERVERS` from the environment.
    #[test]
    fn help_never_prints_a_secret_flag_from_the_environment() {
        let mut seen = BTreeSet::new();
        let mut shown = Vec::new();
        walk(&Cli::command(), &mut seen, &mut shown);
        assert!(shown.is_empty(), "--help shows the values of {shown:?}");
        let all: BTreeSet<String> = SECRET_FLAGS.iter().map(|id| (*id).to_owned()).collect();
        assert_eq!(seen, all, "the walk missed a secret flag");
    }

    /// The error `args` get, which must not repeat `secret`.
    fn refused_without(args: &[&str], secret: &str) -> String {
        let mut argv = vec!["droply"];
        argv.extend_from_slice(args);
        let err = Cli::try_parse_from(argv).expect_err("refused").to_string();
        assert!(!err.contains(secret), "the secret is echoed: {err}");
        err
    }

    #[test]
    fn a_bad_store_is_refused_without_its_password() {
        let bad = "postgress://droply:s3cret@db/d";
        let err = refused_without(&["verify", "--store", bad], "s3cret");
        assert!(
            err.contains("--store") && err.contains("`postgress://`"),
            "{err}"
        );
        let err = refused_without(&["verify", "--store", "host=db password=s3cret"], "s3cret");
        assert!(err.contains("postgres://"), "{err}");
        let err = refused_without(&["migrate", "--from", bad, "--to", "sled:/tmp/x"], "s3cret");
        assert!(err.contains("--from"), "{err}");
        let err = refused_without(&["migrate", "--from", "sled:/tmp/x", "--to", bad], "s3cret");
        assert!(err.contains("--to"), "{err}");
    }

    #[test]
    fn a_bad_secret_or_ice_server_list_is_refused_without_its_value() {
        let err = Cli::try_parse_from(["droply", "serve", "--stripe-secret-key", " "])
            .expect_err("a blank key")
            .to_string();
        assert!(
            err.contains("--stripe-secret-key") && err.contains("must not be empty"),
            "{err}"
        );
        let turn = r#"[{"urls": "turn:t.example.org", "credential": "s3cret", "extra": 1}]"#;
        let err = refused_without(&["serve", "--webrtc-ice-servers", turn], "s3cret");
        assert!(err.contains("--webrtc-ice-servers"), "{err}");
    }
}
