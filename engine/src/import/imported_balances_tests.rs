//! Imported balance totals the ledger cannot open (referral earnings above
//! the earnings that include them) are refused with the line and the user
//! that hold them, and opening such a user's balances writes nothing.

use droply_models::{Money, User, UserId};
use droply_test_support::fixtures::{eur, full_user};

use super::{ImportRow, import_lines};
use crate::payments::ledger::{LedgerEntry, open_imported_balances};
use crate::store::Store;
use crate::test_rows;

/// `user` named `name` under id `id`, with the balance totals given.
fn user_with(name: &str, id: u64, earned: i64, paid: i64, referred: i64) -> User {
    let mut user = full_user(name);
    user.id = UserId::new(id);
    user.total_earnings = eur(earned);
    user.total_payouts = eur(paid);
    user.pending_balance = eur(earned - paid);
    user.total_referral_earnings = eur(referred);
    user
}

/// `rows` as an import file's text.
fn file_of(rows: &[ImportRow]) -> String {
    rows.iter()
        .map(|row| serde_json::to_string(row).expect("json"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Regression: a user imported with 0.50 of referral earnings and no
/// earnings was opened with -0.50 of opening balance beside a +0.50
/// reward. Refused with the line, the user and the field.
#[test]
fn referral_earnings_above_the_earnings_are_refused_with_the_line_and_user() {
    let store = Store::open_temporary().expect("store");
    let rows = [
        ImportRow::User(user_with("ann", 10, 5_000, 0, 0)),
        ImportRow::User(user_with("rita", 11, 0, 0, 50)),
    ];
    let err =
        import_lines(&store, "rows.jsonl", file_of(&rows).as_bytes(), |_| {}).expect_err("refused");
    let message = err.to_string();
    assert!(
        message.contains("line 2")
            && message.contains("user 11")
            && message.contains("total_referral_earnings"),
        "{message}"
    );
    assert_eq!(store.iter::<LedgerEntry>().count(), 0);
}

/// Users put in a store by other means than an import are checked when
/// their balances are opened too: refused, naming the user and the field,
/// and their batch writes nothing.
#[test]
fn opening_balances_refuses_a_negative_opening_and_writes_nothing() {
    let store = Store::open_temporary().expect("store");
    let mut ann = test_rows::user("ann", "Tax Advisor");
    ann.total_earnings = Money::new(5_000, ann.currency);
    ann.pending_balance = Money::new(5_000, ann.currency);
    store.users().create(ann).expect("ann");
    let mut rita = test_rows::user("rita", "Tax Advisor");
    rita.total_referral_earnings = Money::new(50, rita.currency);
    let rita = store.users().create(rita).expect("rita");
    let err = open_imported_balances(&store).expect_err("refused");
    let message = err.to_string();
    assert!(
        message.contains(&format!("user {}", rita.id.get()))
            && message.contains("total_referral_earnings"),
        "{message}"
    );
    assert_eq!(store.iter::<LedgerEntry>().count(), 0, "nothing opened");
}
