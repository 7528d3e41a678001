//! Tests of how long the pass of someone who joined signed in lasts
//! (`joining`, `members`): it names the sign-in session they joined with
//! and is refused, as a departed participant's, once that sign-in ended;
//! a guest's pass does not depend on anyone's sign-in.

use droply_models::DropinMessageType;

use super::tests::{joining, message, room, sign_in, unauthorized};
use super::{
    MemberProof, Renewal, join_dropin, join_dropin_as, member_by, post_message, renew_member,
};
use crate::accounts::{AuthSessionId, logout, token_hash};
use crate::store::{Store, UniqueName};
use crate::test_rows::user;

/// The id of the sign-in session of `token`.
fn session_of(store: &Store, token: &str) -> AuthSessionId {
    store
        .lookup_unique(UniqueName::TokenHash, token_hash(token).as_bytes())
        .expect("lookup")
        .map(AuthSessionId::new)
        .expect("a sign-in session")
}

/// Regression: a participant who joined signed in kept their place after a
/// plain sign-out: the pass was not tied to the sign-in, so a fresh
/// connection, a post and a seat renewal still worked with it.
#[test]
fn a_participant_who_joined_signed_in_is_refused_after_a_plain_sign_out() {
    let (store, session, _, _) = room();
    let carl = store.users().create(user("carl", "")).expect("carl").id;
    let token = sign_in(&store, carl);
    let joined = join_dropin_as(
        &store,
        &joining(&session, Some(carl), Some("Owl")),
        Some(session_of(&store, &token)),
    )
    .expect("join");
    let member = member_by(&store, session.id, MemberProof::Pass(&joined.token)).expect("carl");
    assert_eq!(member.signed_in_with, Some(session_of(&store, &token)));
    post_message(&store, &member, message(DropinMessageType::Comment, "Hi"))
        .expect("posted while signed in");
    assert_eq!(
        renew_member(&store, &member).expect("renewal"),
        Renewal::Held
    );

    logout(&store, &token).expect("signed out");
    unauthorized(
        member_by(&store, session.id, MemberProof::Pass(&joined.token)),
        "a fresh connection with the pass",
    );
    unauthorized(
        member_by(&store, session.id, MemberProof::Token(&joined.token)),
        "the pass sent in a header",
    );
    unauthorized(
        post_message(
            &store,
            &member,
            message(DropinMessageType::Comment, "After"),
        ),
        "a post from the open connection",
    );
    assert_eq!(
        renew_member(&store, &member).expect("renewal"),
        Renewal::SeatLost,
        "the open connection loses its place like a lapsed seat"
    );
}

/// The pass names the sign-in a caller says they joined with: signing out
/// elsewhere leaves it working, signing that one out refuses it; a guest's
/// pass is unaffected, and signing in again and rejoining hands out a pass
/// that works.
#[test]
fn a_pass_lasts_as_long_as_the_sign_in_it_was_issued_under() {
    let (store, session, _, _) = room();
    let carl = store.users().create(user("carl", "")).expect("carl").id;
    let phone = sign_in(&store, carl);
    let laptop = sign_in(&store, carl);
    let phone_session = session_of(&store, &phone);
    let joined = join_dropin_as(
        &store,
        &joining(&session, Some(carl), None),
        Some(phone_session),
    )
    .expect("join");
    let guest = join_dropin(&store, &joining(&session, None, Some("Wren"))).expect("guest");
    // Another user's sign-in cannot be named.
    let dora = store.users().create(user("dora", "")).expect("dora").id;
    let doras = session_of(&store, &sign_in(&store, dora));
    unauthorized(
        join_dropin_as(&store, &joining(&session, Some(carl), None), Some(doras)),
        "a join naming another user's sign-in",
    );
    // Joining signed in without naming the sign-in ties the pass to none.
    let untied = join_dropin(&store, &joining(&session, Some(dora), None)).expect("dora");
    assert_eq!(
        member_by(&store, session.id, MemberProof::Pass(&untied.token))
            .expect("dora")
            .signed_in_with,
        None
    );

    logout(&store, &laptop).expect("laptop signed out");
    member_by(&store, session.id, MemberProof::Pass(&joined.token))
        .expect("the phone's sign-in still stands");

    logout(&store, &phone).expect("phone signed out");
    unauthorized(
        member_by(&store, session.id, MemberProof::Pass(&joined.token)),
        "the pass of an ended sign-in",
    );
    member_by(&store, session.id, MemberProof::Pass(&guest.token))
        .expect("a guest's pass does not depend on a sign-in");

    // A sign-in that ended cannot be named for a new pass.
    unauthorized(
        join_dropin_as(
            &store,
            &joining(&session, Some(carl), None),
            Some(phone_session),
        ),
        "a join naming an ended sign-in",
    );
    let again = sign_in(&store, carl);
    let rejoined = join_dropin_as(
        &store,
        &joining(&session, Some(carl), None),
        Some(session_of(&store, &again)),
    )
    .expect("join again");
    assert_eq!(
        rejoined.participant.id, joined.participant.id,
        "the same row"
    );
    let member = member_by(&store, session.id, MemberProof::Pass(&rejoined.token))
        .expect("the new pass works");
    assert_eq!(member.signed_in_with, Some(session_of(&store, &again)));
}
