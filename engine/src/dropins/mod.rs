//! Drop-in Q&A: an expert hosts a live session that people join with a
//! short code, signed in or (when the host allows it) anonymously; what they
//! write is stored in order and delivered live by the server.
//!
//! `hosting` opens and ends sessions (all of a host's at once when they
//! stop being an expert) and says whether one is upcoming, live or over;
//! `joining` lets people in (to an expert's open session only) and hands
//! each a participant token, kept only as its hash in a `pass`; `seats`
//! holds each participant's seat while they are there and takes back
//! lapsed ones; `members` recognises the token of a live connection as the
//! host's or a participant's, and checks while it is open that they are
//! still in the room and still signed in; `messages` validates and stores
//! what members send (questions, answers, comments, reactions,
//! removals, presence), each write checking the member again; `authors` says who wrote a message the way others
//! may see it, without any identity in an anonymous session;
//! `message_feed` follows the messages every node stores, in id order, for
//! the live rooms of each node.

mod authors;
mod hosting;
mod joining;
mod members;
mod message_feed;
mod messages;
mod pass;
mod seats;
#[cfg(test)]
mod signout_tests;
#[cfg(test)]
mod tests;

pub use authors::{Author, Role};
pub(crate) use hosting::end_dropins_of_host;
pub use hosting::{
    DropinState, MAX_OPEN_PER_HOST, NewDropin, OVERTIME_MINUTES, end_dropin, end_overdue_dropins,
    ends_by_itself_at, open_dropin, open_dropins_of, state_of,
};
pub use joining::{Joined, Joining, join_dropin, join_dropin_as, session_by_code};
pub use members::{Member, MemberProof, Renewal, member_by, member_by_token, renew_member};
pub use message_feed::{FeedPage, MessageFeed};
pub use messages::{
    MAX_REACTION_CHARS, NewMessage, Posted, Presence, messages_after, post_message,
    record_presence, remove_message,
};
pub use pass::{DropinPass, DropinPassId};
pub use seats::{DropinSeat, SEAT_GRACE, SEAT_RENEW_EVERY, renew_seat};
