//! The matcher keeps candidates' rows decoded between requests; a hit must still show
//! its expert as the store has it now.

use droply_engine::matching::MatchQuery;

use crate::market::{Market, Profile};

#[test]
fn a_hit_shows_its_expert_as_edited_since_the_last_request() {
    let mut m = Market::new();
    let expert = m.expert(&Profile::default());
    let query = MatchQuery {
        text: "rust engineer".to_owned(),
        ..MatchQuery::default()
    };
    let name_in_hits = |m: &Market| {
        m.search(&query)
            .hits
            .iter()
            .find(|hit| hit.expert.id == expert)
            .map(|hit| (hit.expert.full_name.clone(), hit.expert.location.clone()))
    };
    let before = name_in_hits(&m).expect("the expert is found");

    let mut row = m.store.users().get(expert).expect("row");
    row.full_name = "Renamed Person".to_owned();
    row.location = "Lisbon".to_owned();
    m.store.users().update(row).expect("update");
    let after = name_in_hits(&m).expect("still found");
    assert_ne!(before, after);
    assert_eq!(after, ("Renamed Person".to_owned(), "Lisbon".to_owned()));

    m.store.users().delete(expert).expect("delete");
    assert_eq!(name_in_hits(&m), None, "a deleted expert is not shown");
}
