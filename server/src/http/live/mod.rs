//! Live connections over WebSocket: drop-in rooms (`dropin_room`), the
//! WebRTC fallback's signal relay (`signal_relay`), the hub that holds
//! them under the live limits (`hub`), and what every live connection
//! shares: who the caller says they are (a bearer token, a socket ticket, a
//! participant token in the URL, never a sign-in token there, or a cookie),
//! the upgrade, pings, idle and send timeouts (`socket`).

pub mod dropin_room;
pub mod hub;
pub mod signal_relay;
pub mod socket;

pub use hub::LiveHub;
