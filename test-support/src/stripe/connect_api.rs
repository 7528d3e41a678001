//! The Stripe Connect resources the [`StripeFake`](super::StripeFake)
//! serves itself (connected accounts, account links, transfers): which
//! requests they are ([`Route`]), the objects it keeps ([`Store`]), and how
//! each request is answered (its parameters are read and checked by
//! `connect_params`). No I/O here: the server in `connect_fake.rs` calls in
//! with the parsed parameters under its lock.

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Map, Value, json};

use super::connect_params::{
    Params, Reply, check_known, invalid, list, metadata, missing, positive_integer, required,
    string,
};
use super::webhook_sender::now;

/// `prefix` followed by `n` random ASCII letters and digits.
pub(super) fn random_id(prefix: &str, n: usize) -> String {
    let tail: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect();
    format!("{prefix}{tail}")
}

/// A request the fake serves itself; anything else is forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// `POST /v1/accounts`
    CreateAccount,
    /// `GET /v1/accounts`
    ListAccounts,
    /// `GET /v1/accounts/{id}`
    GetAccount(String),
    /// `POST /v1/account_links`
    CreateAccountLink,
    /// `POST /v1/transfers`
    CreateTransfer,
    /// `GET /v1/transfers`
    ListTransfers,
    /// `GET /v1/transfers/{id}`
    GetTransfer(String),
}

impl Route {
    /// The route for `method` and `path`, if the fake serves it.
    pub(super) fn of(method: &str, path: &str) -> Option<Route> {
        let rest = path.strip_prefix("/v1/")?;
        let mut segments = rest.split('/');
        let resource = segments.next()?;
        let id = segments.next();
        if segments.next().is_some() || id == Some("") {
            return None;
        }
        match (method, resource, id) {
            ("POST", "accounts", None) => Some(Route::CreateAccount),
            ("GET", "accounts", None) => Some(Route::ListAccounts),
            ("GET", "accounts", Some(id)) => Some(Route::GetAccount(id.to_owned())),
            ("POST", "account_links", None) => Some(Route::CreateAccountLink),
            ("POST", "transfers", None) => Some(Route::CreateTransfer),
            ("GET", "transfers", None) => Some(Route::ListTransfers),
            ("GET", "transfers", Some(id)) => Some(Route::GetTransfer(id.to_owned())),
            _ => None,
        }
    }
}

/// The accounts and transfers the fake holds, each in creation order.
#[derive(Debug, Default)]
pub(super) struct Store {
    /// Connected accounts, as answered.
    pub accounts: Vec<Value>,
    /// Transfers, as answered.
    pub transfers: Vec<Value>,
}

impl Store {
    /// The account `id`.
    pub(super) fn account_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.accounts.iter_mut().find(|a| a["id"] == id)
    }

    fn account(&self, id: &str) -> Option<&Value> {
        self.accounts.iter().find(|a| a["id"] == id)
    }

    /// Answers `route` with `params` (already past authentication and
    /// idempotency); a transfer creation also hands back the transfer.
    pub(super) fn serve(&mut self, route: &Route, params: &Params) -> Reply {
        let result = match route {
            Route::CreateAccount => self.create_account(params),
            Route::ListAccounts => {
                list(self.accounts.iter().rev().collect(), params, "/v1/accounts")
            }
            Route::GetAccount(id) => self
                .account(id)
                .cloned()
                .ok_or_else(|| missing("account", id, "account")),
            Route::CreateAccountLink => self.create_account_link(params),
            Route::CreateTransfer => self.create_transfer(params),
            Route::ListTransfers => self.list_transfers(params),
            Route::GetTransfer(id) => self
                .transfers
                .iter()
                .find(|t| t["id"] == id.as_str())
                .cloned()
                .ok_or_else(|| missing("transfer", id, "id")),
        };
        match result {
            Ok(body) => (200, body),
            Err(reply) => reply,
        }
    }

    /// `POST /v1/accounts`.
    fn create_account(&mut self, params: &Params) -> Result<Value, Reply> {
        check_known(
            params,
            &[
                "type",
                "country",
                "email",
                "metadata",
                "capabilities",
                "business_type",
                "business_profile",
                "company",
                "individual",
                "controller",
                "default_currency",
                "settings",
                "tos_acceptance",
                "external_account",
                "expand",
            ],
        )?;
        let kind = match string(params, "type")? {
            Some(kind) if ["express", "standard", "custom"].contains(&kind.as_str()) => kind,
            Some(_) => {
                return Err(invalid(
                    None,
                    "Invalid type: must be one of custom, express, or standard",
                    "type",
                ));
            }
            None if params.contains_key("controller") => "none".to_owned(),
            None => {
                return Err(invalid(
                    Some("parameter_missing"),
                    "Missing required param: type.",
                    "type",
                ));
            }
        };
        let mut capabilities = Map::new();
        match params.get("capabilities") {
            None => {}
            Some(Value::Object(requested)) => {
                for (name, options) in requested {
                    if options.get("requested").and_then(Value::as_str) == Some("true") {
                        capabilities.insert(name.clone(), "inactive".into());
                    }
                }
            }
            Some(_) => return Err(invalid(None, "Invalid object", "capabilities")),
        }
        let created = now();
        let account = json!({
            "id": random_id("acct_", 16),
            "object": "account",
            "type": kind,
            "business_type": string(params, "business_type")?,
            "capabilities": capabilities,
            "charges_enabled": false,
            "payouts_enabled": false,
            "details_submitted": false,
            "country": string(params, "country")?.map_or_else(|| "FR".to_owned(), |c| c.to_ascii_uppercase()),
            "default_currency": string(params, "default_currency")?.map_or_else(|| "eur".to_owned(), |c| c.to_ascii_lowercase()),
            "email": string(params, "email")?,
            "metadata": metadata(params)?,
            "requirements": {
                "alternatives": [],
                "current_deadline": null,
                "currently_due": ["external_account"],
                "disabled_reason": null,
                "errors": [],
                "eventually_due": ["external_account"],
                "past_due": [],
                "pending_verification": [],
            },
            "created": created,
        });
        self.accounts.push(account.clone());
        Ok(account)
    }

    /// `POST /v1/account_links`.
    fn create_account_link(&self, params: &Params) -> Result<Value, Reply> {
        check_known(
            params,
            &[
                "account",
                "refresh_url",
                "return_url",
                "type",
                "collect",
                "collection_options",
                "expand",
            ],
        )?;
        let account = required(params, "account")?;
        required(params, "refresh_url")?;
        required(params, "return_url")?;
        let kind = required(params, "type")?;
        if kind != "account_onboarding" && kind != "account_update" {
            return Err(invalid(
                None,
                "Invalid type: must be one of account_onboarding or account_update",
                "type",
            ));
        }
        if self.account(&account).is_none() {
            return Err(missing("account", &account, "account"));
        }
        let created = now();
        Ok(json!({
            "object": "account_link",
            "url": format!("https://connect.stripe.test/setup/e/{account}/{}", random_id("", 12)),
            "created": created,
            "expires_at": created + 300,
        }))
    }

    /// `POST /v1/transfers`.
    fn create_transfer(&mut self, params: &Params) -> Result<Value, Reply> {
        check_known(
            params,
            &[
                "amount",
                "currency",
                "destination",
                "transfer_group",
                "description",
                "metadata",
                "source_transaction",
                "source_type",
                "expand",
            ],
        )?;
        let amount = positive_integer(&required(params, "amount")?, "amount")?;
        let currency = required(params, "currency")?.to_ascii_lowercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(invalid(
                None,
                format!(
                    "Invalid currency: {currency}. Stripe currently supports these currencies: eur, usd, ..."
                ),
                "currency",
            ));
        }
        let destination = required(params, "destination")?;
        let metadata = metadata(params)?;
        let transfer_group = string(params, "transfer_group")?;
        let description = string(params, "description")?;
        let source_transaction = string(params, "source_transaction")?;
        let account = self
            .account(&destination)
            .ok_or_else(|| missing("destination", &destination, "destination"))?;
        if account["payouts_enabled"] != true {
            return Err(invalid(
                Some("insufficient_capabilities_for_transfer"),
                "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
                "destination",
            ));
        }
        let id = random_id("tr_", 24);
        let transfer = json!({
            "id": id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": random_id("txn_", 24),
            "created": now(),
            "currency": currency,
            "description": description,
            "destination": destination,
            "destination_payment": random_id("py_", 24),
            "livemode": false,
            "metadata": metadata,
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": false,
                "total_count": 0,
                "url": format!("/v1/transfers/{id}/reversals"),
            },
            "reversed": false,
            "source_transaction": source_transaction,
            "source_type": "card",
            "transfer_group": transfer_group,
        });
        self.transfers.push(transfer.clone());
        Ok(transfer)
    }

    /// `GET /v1/transfers` (filters: `transfer_group`, `destination`).
    fn list_transfers(&self, query: &Params) -> Result<Value, Reply> {
        let group = string(query, "transfer_group")?;
        let destination = string(query, "destination")?;
        let matching = self
            .transfers
            .iter()
            .rev()
            .filter(|t| group.as_deref().is_none_or(|g| t["transfer_group"] == g))
            .filter(|t| destination.as_deref().is_none_or(|d| t["destination"] == d))
            .collect();
        list(matching, query, "/v1/transfers")
    }
}

/// Makes `account` fully onboarded: charges, payouts and details
/// submitted, nothing due, every capability active.
pub(super) fn activate(account: &mut Value) {
    account["charges_enabled"] = true.into();
    account["payouts_enabled"] = true.into();
    account["details_submitted"] = true.into();
    let requirements = &mut account["requirements"];
    requirements["currently_due"] = json!([]);
    requirements["eventually_due"] = json!([]);
    requirements["past_due"] = json!([]);
    requirements["disabled_reason"] = Value::Null;
    requirements["current_deadline"] = Value::Null;
    if let Some(capabilities) = account["capabilities"].as_object_mut() {
        if !capabilities.contains_key("transfers") {
            capabilities.insert("transfers".into(), "active".into());
        }
        for state in capabilities.values_mut() {
            *state = "active".into();
        }
    }
}

/// Restricts `account` as Stripe does when requirements are past due:
/// payouts disabled, `requirements.disabled_reason =
/// "requirements.past_due"`, `external_account` currently and past due,
/// the `transfers` capability inactive. `charges_enabled` is left as is.
pub(super) fn restrict(account: &mut Value) {
    account["payouts_enabled"] = false.into();
    let requirements = &mut account["requirements"];
    requirements["disabled_reason"] = "requirements.past_due".into();
    requirements["currently_due"] = json!(["external_account"]);
    requirements["past_due"] = json!(["external_account"]);
    if let Some(capabilities) = account["capabilities"].as_object_mut() {
        capabilities.insert("transfers".into(), "inactive".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str) -> Params {
        super::super::form::parse(body.as_bytes()).expect("form")
    }

    #[test]
    fn routes() {
        assert_eq!(
            Route::of("POST", "/v1/accounts"),
            Some(Route::CreateAccount)
        );
        assert_eq!(
            Route::of("GET", "/v1/accounts/acct_1"),
            Some(Route::GetAccount("acct_1".into()))
        );
        assert_eq!(Route::of("GET", "/v1/accounts/acct_1/login_links"), None);
        assert_eq!(Route::of("POST", "/v1/accounts/acct_1"), None);
        assert_eq!(Route::of("GET", "/v1/transfers/"), None);
        assert_eq!(Route::of("POST", "/v1/payment_intents"), None);
        assert_eq!(Route::of("GET", "/v2/transfers"), None);
    }

    #[test]
    fn transfer_rules() {
        let mut store = Store::default();
        let (status, account) = store.serve(&Route::CreateAccount, &params("type=express"));
        assert_eq!(status, 200);
        let id = account["id"].as_str().expect("id").to_owned();
        assert_eq!(id.len(), "acct_".len() + 16);

        let body = format!("amount=100&currency=EUR&destination={id}");
        let (status, e) = store.serve(&Route::CreateTransfer, &params(&body));
        assert_eq!(status, 400);
        assert_eq!(e["error"]["code"], "insufficient_capabilities_for_transfer");

        activate(store.account_mut(&id).expect("account"));
        let (status, t) = store.serve(&Route::CreateTransfer, &params(&body));
        assert_eq!(status, 200, "{t}");
        assert_eq!(t["currency"], "eur");

        for (bad, code) in [
            (
                "amount=abc&currency=eur&destination=x",
                "parameter_invalid_integer",
            ),
            (
                "amount=0&currency=eur&destination=x",
                "parameter_invalid_integer",
            ),
            ("currency=eur&destination=x", "parameter_missing"),
            (
                "amount=1&currency=eur&destination=x&colour=red",
                "parameter_unknown",
            ),
        ] {
            let (status, e) = store.serve(&Route::CreateTransfer, &params(bad));
            assert_eq!(
                (status, e["error"]["code"].as_str()),
                (400, Some(code)),
                "{bad}: {e}"
            );
        }
        let (status, e) = store.serve(
            &Route::CreateTransfer,
            &params("amount=1&currency=eur&destination=acct_nope"),
        );
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (404, Some("resource_missing"))
        );
        assert_eq!(store.transfers.len(), 1);
    }

    #[test]
    fn lists_page_newest_first() {
        let items: Vec<Value> = (0..5).map(|i| json!({"id": format!("x{i}")})).collect();
        let refs = items.iter().rev().collect::<Vec<_>>();
        let page = list(refs.clone(), &params("limit=2"), "/v1/x").expect("list");
        assert_eq!(page["data"], json!([{"id": "x4"}, {"id": "x3"}]));
        assert_eq!(page["has_more"], true);
        let page = list(refs.clone(), &params("limit=2&starting_after=x1"), "/v1/x").expect("list");
        assert_eq!(page["data"], json!([{"id": "x0"}]));
        assert_eq!(page["has_more"], false);
        assert!(list(refs, &params("limit=101"), "/v1/x").is_err());
    }
}
