//! Accounts: signing up, signing in and out, and recognising a bearer token.
//!
//! Passwords are hashed with argon2id; a sign-in issues an opaque random token
//! of which only the SHA-256 is stored, in an [`AuthSession`] row with an
//! expiry. Repeated failed sign-ins for one email are refused for a while by
//! the [`LoginThrottle`].

mod auth_session;
mod login;
mod login_throttle;
mod password;
mod register;

pub use auth_session::{AuthSession, AuthSessionId, SESSION_DAYS};
pub use login::{IssuedToken, authenticate, login, logout};
pub use login_throttle::LoginThrottle;
pub use password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
pub use register::{Registration, register};
