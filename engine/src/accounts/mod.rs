//! Accounts: signing up, signing in and out, and recognising a bearer token.
//!
//! Passwords are hashed with argon2id; a sign-in issues an opaque random token
//! of which only the SHA-256 is stored, in an [`AuthSession`] row with an
//! expiry. Hashing runs under one of a few [`HashingPermits`], so a flood of
//! sign-ins cannot take unbounded memory. Repeated failed sign-ins on one
//! email from one client are refused for a while by the [`LoginThrottle`],
//! which counts each attempt before checking it. Expired sessions are deleted by
//! [`sweep_expired_sessions`], which the service runs periodically.
//! A signed-in caller trades its token for a [`SocketTicket`], good for one
//! WebSocket for a minute, to put in a URL instead of the token.
//! A signed-in owner changes their password ([`change_password`]: the
//! current one checked as a sign-in checks it, every other session ended).
//!
//! An owner changes their own profile through the [`ProfileUpdate`]
//! allowlist, saves experts as favorites and records the interactions a
//! client may record itself (views, clicks, shares, messages) with other
//! profiles, and closes their account for good (`close`: their personal
//! data erased, the records others hold and the money records kept).

mod auth_session;
pub(crate) mod close;
mod favorites;
mod hashing_permits;
pub(crate) mod interactions;
mod login;
mod login_throttle;
mod password;
mod password_change;
mod profile_update;
mod register;
mod session_sweep;
mod socket_ticket;

pub(crate) use auth_session::token_hash;
pub use auth_session::{AuthSession, AuthSessionId, SESSION_DAYS};
pub use favorites::{add_favorite, favorite_experts, remove_favorite};
pub use hashing_permits::{HashingLimits, HashingPermit, HashingPermits};
pub(crate) use interactions::record_within_bounds;
pub use interactions::{CLIENT_INTERACTIONS, DAILY_INTERACTIONS, record_interaction};
pub(crate) use login::live_session;
pub use login::{IssuedToken, MAX_SESSIONS_PER_USER, authenticate, login, logout, logout_all};
pub use login_throttle::{
    Attempt, LoginAttempts, LoginAttemptsId, LoginThrottle, LoginThrottleConfig, client_network,
    sweep_login_attempts,
};
pub use password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
pub use password_change::{PasswordChange, change_password};
pub use profile_update::{ProfileUpdate, update_profile};
pub use register::{Registration, register};
pub use session_sweep::{SWEEP_BATCH, sweep_expired_sessions};
pub use socket_ticket::{SOCKET_TICKET_SECS, SocketTarget, SocketTicket};
pub(crate) use socket_ticket::{
    issue_socket_ticket, redeem_socket_ticket, redeem_socket_ticket_session,
    socket_ticket_still_stands,
};
