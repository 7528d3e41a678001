//! `droply import`: JSON lines in, rows in the store, relations intact; a bad
//! line is refused with its line number; imported sales get the payments
//! and ledger rows behind them.

use std::collections::BTreeMap;

use clap::Parser;
use droply_engine::Store;
use droply_engine::import::ImportRow;
use droply_engine::payments::ledger::{LedgerEntry, LedgerKind};
use droply_engine::payments::{
    PaymentsConfig, open_imported_sales, reward_sweep, stored_payment_of_purchase,
};
use droply_models::{
    Content, ContentId, ContentPurchase, Favorite, FavoriteId, PaymentStatus, Referral,
    ReferralReward, RewardStatus, RewardType, Timestamp, User, UserId,
};
use droply_server::cli::{Cli, run};

use crate::app::spawn_app_on;
use crate::experts::secretive_expert;

fn import(file: &std::path::Path, data_dir: &std::path::Path) -> droply_server::Result<()> {
    let cli = Cli::parse_from([
        "droply",
        "import",
        &file.display().to_string(),
        "--data-dir",
        &data_dir.display().to_string(),
    ]);
    run(cli)
}

#[test]
fn import_loads_rows_under_their_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ann = secretive_expert("ann");
    ann.id = UserId::new(10);
    let mut bea = secretive_expert("bea");
    bea.id = UserId::new(11);
    let fav = Favorite {
        id: FavoriteId::new(12),
        user_id: ann.id,
        favorited_user_id: bea.id,
        created_at: Timestamp::parse_rfc3339("2026-10-02T00:00:00Z").expect("instant"),
    };
    let lines: Vec<String> = [
        ImportRow::User(ann.clone()),
        ImportRow::User(bea.clone()),
        ImportRow::Favorite(fav.clone()),
    ]
    .iter()
    .map(|row| serde_json::to_string(row).expect("json"))
    .collect();
    let file = dir.path().join("rows.jsonl");
    std::fs::write(&file, lines.join("\n")).expect("write");
    import(&file, dir.path()).expect("import");

    let store = Store::open(dir.path().join("store")).expect("open");
    assert_eq!(store.users().get(ann.id).expect("ann"), ann);
    assert_eq!(
        store.favorites().find_pair(ann.id, bea.id).expect("pair"),
        Some(fav)
    );
    assert!(store.verify_integrity().expect("check").is_consistent());
    // New rows get ids after the imported ones.
    let carl = store
        .users()
        .create(secretive_expert("carl"))
        .expect("carl");
    assert!(carl.id.get() > 12);
    let app = spawn_app_on(store, dir);
    assert_eq!(
        app.get(&format!("/v1/experts/{}", bea.id)).body["username"],
        "bea"
    );
}

/// Regression: importing a file twice replaced the rows under its ids (their
/// balances no longer agreed with the ledger, later statuses were rolled back),
/// and an id near `u64::MAX` made the id counter wrap over existing rows. The
/// same file run again is recognised as imported and writes nothing; another
/// file holding a row under a taken id is refused on it.
#[test]
fn an_import_adds_rows_and_never_replaces_one_or_takes_an_id_past_the_last() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ann = secretive_expert("ann");
    ann.id = UserId::new(10);
    let line = serde_json::to_string(&ImportRow::User(ann.clone())).expect("json");
    let file = dir.path().join("rows.jsonl");
    std::fs::write(&file, &line).expect("write");
    import(&file, dir.path()).expect("first import");
    import(&file, dir.path()).expect("the same file again: imported already");
    let mut changed = ann.clone();
    changed.full_name = "Ann Replaced".to_owned();
    let changed = serde_json::to_string(&ImportRow::User(changed)).expect("json");
    std::fs::write(&file, &changed).expect("write");
    let again = import(&file, dir.path()).expect_err("another row under a taken id");
    assert!(
        again.to_string().contains("line 1") && again.to_string().contains("already exists"),
        "{again}"
    );
    let mut far = secretive_expert("bea");
    far.id = UserId::new(droply_engine::store::MAX_ID + 1);
    let far = serde_json::to_string(&ImportRow::User(far)).expect("json");
    std::fs::write(&file, far).expect("write");
    let past = import(&file, dir.path()).expect_err("an id past the last");
    assert!(past.to_string().contains("out of range"), "{past}");
    let store = Store::open(dir.path().join("store")).expect("open");
    assert_eq!(store.users().get(ann.id).expect("ann"), ann);
    assert_eq!(store.users().count(), 1);
}

#[test]
fn a_bad_line_is_refused_with_its_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = serde_json::to_string(&ImportRow::User(secretive_expert("ann"))).expect("json");
    let file = dir.path().join("rows.jsonl");
    std::fs::write(
        &file,
        format!("{good}\n{{\"kind\": \"user\", \"row\": {{\"id\": \"x\"}}}}\n"),
    )
    .expect("write");
    let err = import(&file, dir.path()).expect_err("bad line");
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn a_row_that_breaks_a_rule_is_refused_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ann = secretive_expert("ann");
    ann.id = UserId::new(1);
    let ann = serde_json::to_string(&ImportRow::User(ann)).expect("json");
    let mut twin = secretive_expert("ann");
    twin.id = UserId::new(77);
    let twin = serde_json::to_string(&ImportRow::User(twin)).expect("json");
    let file = dir.path().join("rows.jsonl");
    std::fs::write(&file, format!("{ann}\n\n{twin}\n")).expect("write");
    let err = import(&file, dir.path()).expect_err("duplicate username");
    assert!(err.to_string().contains("line 3"), "{err}");
}

/// Regression: an imported user's rating totals were taken as written: a
/// 500-star average showed on the profile and passed rating filters.
#[test]
fn impossible_rating_totals_are_refused_with_their_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ann = serde_json::to_value(ImportRow::User(secretive_expert("ann"))).expect("json");
    ann["row"]["rating"] = serde_json::json!({"sum": 500, "count": 1});
    let file = dir.path().join("rows.jsonl");
    std::fs::write(&file, format!("{ann}\n")).expect("write");
    let err = import(&file, dir.path()).expect_err("impossible rating");
    let message = err.to_string();
    assert!(
        message.contains("line 1") && message.contains("rating"),
        "{message}"
    );
}

/// `droply demo` then `droply import`: the demo's paid content sales come
/// in with the payments, ledger rows and referral rewards the webhook would
/// have written, at the sales' own times; the ledger check agrees before
/// and after the reward sweep credits them, and opening twice changes nothing.
#[test]
fn demo_sales_import_with_their_payments_ledger_rows_and_referral_rewards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("demo.jsonl");
    let cli = Cli::parse_from([
        "droply",
        "demo",
        "--out",
        &file.display().to_string(),
        "--experts",
        "1500",
        "--clients",
        "600",
    ]);
    run(cli).expect("demo");
    import(&file, dir.path()).expect("import");
    let store = Store::open(dir.path().join("store")).expect("open");
    let report = store.verify_integrity().expect("check");
    assert!(report.is_consistent(), "{:?}", report.problems);

    let config = PaymentsConfig::default();
    let terms = config.terms();
    let paid: Vec<ContentPurchase> = store
        .iter::<ContentPurchase>()
        .map(|row| row.expect("purchase"))
        .filter(|p| p.amount_paid.is_positive())
        .collect();
    assert!(paid.len() > 50, "{} paid sales", paid.len());
    let mut earned: BTreeMap<ContentId, i64> = BTreeMap::new();
    for purchase in &paid {
        let payment = stored_payment_of_purchase(&store, purchase.id)
            .expect("read")
            .expect("a payment behind every paid sale");
        assert_eq!(payment.status, PaymentStatus::Succeeded);
        assert_eq!(payment.amount, purchase.amount_paid);
        assert_eq!(payment.payer, purchase.buyer_id);
        assert_eq!(payment.created_at, purchase.created_at);
        let fee = purchase
            .amount_paid
            .checked_mul_ratio(i64::from(terms.platform_fee_bps), 10_000)
            .expect("fee");
        assert_eq!(payment.fee, fee);
        *earned.entry(purchase.content_id).or_default() +=
            purchase.amount_paid.amount_minor - fee.amount_minor;
    }
    for (id, amount) in earned {
        let content: Content = store.require(id).expect("content");
        assert_eq!(content.earnings.amount_minor, amount, "{}", content.title);
    }
    let charges = store
        .iter::<LedgerEntry>()
        .map(|row| row.expect("row"))
        .filter(|row| row.kind == LedgerKind::Charge)
        .count();
    assert_eq!(charges, paid.len(), "one charge per sale");

    let referrals: Vec<Referral> = store
        .iter::<Referral>()
        .map(|row| row.expect("referral"))
        .collect();
    for referral in &referrals {
        let user: User = store.require(referral.referred_user_id).expect("user");
        assert_eq!(user.referred_by, Some(referral.referrer_id));
    }
    let referred = store
        .iter::<User>()
        .map(|row| row.expect("user"))
        .filter(|u| u.referred_by.is_some())
        .count();
    assert_eq!(
        referrals.len(),
        referred,
        "a Referral row behind every referred_by"
    );
    let rewards: Vec<ReferralReward> = store
        .iter::<ReferralReward>()
        .map(|row| row.expect("reward"))
        .collect();
    assert!(
        !rewards.is_empty(),
        "referred buyers earned their referrers"
    );
    // A referred buyer's sale within the window earns a reward exactly when
    // it is in the referrer's own currency.
    let users: BTreeMap<UserId, User> = store
        .iter::<User>()
        .map(|row| row.expect("user"))
        .map(|u| (u.id, u))
        .collect();
    let window_days = 30 * i64::from(config.referrals.content_months);
    let (mut same, mut other) = (0, 0);
    for purchase in &paid {
        let buyer = &users[&purchase.buyer_id];
        let Some(referrer) = buyer.referred_by else {
            continue;
        };
        if purchase.created_at > buyer.created_at.plus_days(window_days) {
            continue;
        }
        let rewarded = rewards
            .iter()
            .any(|r| r.content_purchase_id == Some(purchase.id));
        let in_their_currency = users[&referrer].currency == purchase.amount_paid.currency;
        assert_eq!(rewarded, in_their_currency, "{purchase:?}");
        if in_their_currency {
            same += 1;
        } else {
            other += 1;
        }
    }
    assert!(
        same > 0 && other > 0,
        "{same} rewarded, {other} in another currency"
    );
    for reward in &rewards {
        assert_eq!(reward.reward_type, RewardType::ContentSale);
        assert_eq!(reward.status, RewardStatus::Pending);
        let purchase = paid
            .iter()
            .find(|p| Some(p.id) == reward.content_purchase_id)
            .expect("the sale behind it");
        assert_eq!(reward.created_at, purchase.created_at);
    }

    // The sweep credits them through the ledger; the check still agrees.
    let later = Timestamp::now().plus_days(i64::from(config.referrals.hold_days) + 1);
    assert_eq!(
        reward_sweep(&store, &config.referrals, later).expect("sweep"),
        rewards.len()
    );
    let report = store.verify_integrity().expect("check");
    assert!(report.is_consistent(), "{:?}", report.problems);
    assert_eq!(
        open_imported_sales(&store, &config).expect("again"),
        0,
        "opening twice changes nothing"
    );
}

/// Regression: `droply import missing.jsonl --data-dir NEW` made the data
/// directory and its store before opening the file, then failed with
/// "i/o: No such file or directory", naming no path.
#[test]
fn a_missing_file_is_named_and_makes_no_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("missing.jsonl");
    let data_dir = dir.path().join("new");
    let err = import(&file, &data_dir).expect_err("a missing file");
    let message = err.to_string();
    assert!(
        message.contains(&file.display().to_string()),
        "the error names no file: {message}"
    );
    assert!(!data_dir.exists(), "the data dir was made");
}
