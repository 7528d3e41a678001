//! Live connections over WebSocket: drop-in rooms (`dropin_room`), the
//! WebRTC fallback's signal relay (`signal_relay`) and who may hold a side
//! of it, at the upgrade and while it is open (`relay_access`), the hub
//! that holds them under the live limits (`hub`), each node's reader of the messages
//! every node stores, which feeds its rooms (`room_feed`), and what every
//! live connection shares: who the caller says they are (a bearer token, a
//! socket ticket, a participant token in the URL, never a sign-in token
//! there, or a cookie), the upgrade, pings, idle and send timeouts
//! (`socket`). Rooms and relays work across the nodes sharing one store:
//! a room hears every node's messages through the store's feed, and a
//! relay's two sides, connected to different nodes, reach each other
//! through the store's channel between nodes.

pub mod dropin_room;
pub mod hub;
pub mod relay_access;
mod room_feed;
pub mod signal_relay;
pub mod socket;

pub use hub::LiveHub;
