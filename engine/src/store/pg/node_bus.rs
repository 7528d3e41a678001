//! Messages between the nodes sharing one database, for what lives on one
//! node and not in the store (a WebRTC relay's connections): a node tells
//! the others with `NOTIFY droply_nodes`, one channel per database, and
//! every node's feed listener (`listen.rs`), which `LISTEN`s on it, hands
//! each message of another node to the [`NodeListener`]s registered with
//! the store. PostgreSQL takes a NOTIFY payload under 8,000 bytes, so a
//! message is sent in pieces of at most [`PIECE`] bytes, all in one
//! transaction (all or none are delivered), each headed by the sending
//! node, the message's number and the piece's place; the listener puts
//! them together again, and forgets pieces whose rest never came after
//! [`PIECES_WAIT`]. Notifications reach every listener in commit order, so
//! the messages one caller sends one after the other arrive in that order.
//! Nothing is kept: a node that is not listening at the time (its listener
//! reconnecting) misses what was said meanwhile.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use postgres::Client;

use super::PgStore;
use crate::{Error, Result};

/// The channel node messages go on.
pub(crate) const NODES_CHANNEL: &str = "droply_nodes";

/// The longest message one node may tell the others, in bytes.
pub const MAX_NODE_MESSAGE: usize = 256 * 1024;

/// The most of a message one NOTIFY carries, in bytes (with its header,
/// well under PostgreSQL's limit of 7,999).
const PIECE: usize = 7_000;

/// A piece's header: the node, the message's number (16 hex digits each),
/// the piece's place and the number of pieces (4 hex digits each).
const HEADER: usize = 16 + 16 + 4 + 4;

/// How long the pieces of a message wait for the rest.
const PIECES_WAIT: Duration = Duration::from_secs(30);

/// Something that hears what the other nodes sharing the store tell it
/// ([`crate::Store::tell_nodes`]).
pub trait NodeListener: Send + Sync {
    /// Called on the store's listener thread with each message another
    /// node sent, in the order it was sent; answers the messages to tell
    /// the other nodes in return (sent by the listener before it reads on).
    /// It must not block: the store's feed waits behind it.
    fn heard(&self, message: &str) -> Vec<String>;
}

/// This node's end of the channel: who it is, what it numbered last, who
/// listens, and the pieces of messages still being put together.
pub(crate) struct NodeBus {
    node: u64,
    sent: AtomicU64,
    listeners: Mutex<Vec<Weak<dyn NodeListener>>>,
    pieces: Mutex<HashMap<(u64, u64), Gathering>>,
}

/// The pieces of one message heard so far.
struct Gathering {
    started: Instant,
    parts: Vec<Option<String>>,
}

impl NodeBus {
    /// The end of a node that calls itself by a random number.
    pub(crate) fn new() -> NodeBus {
        NodeBus {
            node: rand::RngCore::next_u64(&mut rand::rng()),
            sent: AtomicU64::new(0),
            listeners: Mutex::new(Vec::new()),
            pieces: Mutex::new(HashMap::new()),
        }
    }

    /// Hands `listener` what other nodes say, for as long as it lives.
    pub(crate) fn listen(&self, listener: Weak<dyn NodeListener>) {
        let mut listeners = lock(&self.listeners);
        listeners.retain(|held| held.strong_count() > 0);
        listeners.push(listener);
    }

    /// The NOTIFY payloads that carry `message`; `Invalid` when it is too
    /// long or holds a NUL, which a payload cannot.
    pub(crate) fn payloads(&self, message: &str) -> Result<Vec<String>> {
        if message.len() > MAX_NODE_MESSAGE {
            return Err(Error::Invalid(format!(
                "a message to the other nodes is at most {MAX_NODE_MESSAGE} bytes"
            )));
        }
        if message.contains('\0') {
            return Err(Error::Invalid(
                "a message to the other nodes holds no NUL".to_owned(),
            ));
        }
        let number = self.sent.fetch_add(1, Ordering::Relaxed);
        let pieces = pieces(message);
        let count = pieces.len();
        Ok(pieces
            .iter()
            .enumerate()
            .map(|(place, piece)| {
                format!(
                    "{:016x}{number:016x}{place:04x}{count:04x}{piece}",
                    self.node
                )
            })
            .collect())
    }

    /// A payload heard on the channel: when it completes a message of
    /// another node, the listeners' answers to it.
    pub(crate) fn heard(&self, payload: &str) -> Vec<String> {
        let Some(message) = self.gather(payload) else {
            return Vec::new();
        };
        let listeners: Vec<Arc<dyn NodeListener>> = {
            let mut listeners = lock(&self.listeners);
            listeners.retain(|held| held.strong_count() > 0);
            listeners.iter().filter_map(Weak::upgrade).collect()
        };
        listeners
            .iter()
            .flat_map(|listener| listener.heard(&message))
            .collect()
    }

    /// The whole message `payload` completes, if it is another node's and
    /// its last missing piece.
    fn gather(&self, payload: &str) -> Option<String> {
        let header = payload.get(..HEADER).filter(|header| header.is_ascii())?;
        let node = u64::from_str_radix(&header[..16], 16).ok()?;
        if node == self.node {
            return None;
        }
        let number = u64::from_str_radix(&header[16..32], 16).ok()?;
        let place = usize::from_str_radix(&header[32..36], 16).ok()?;
        let count = usize::from_str_radix(&header[36..40], 16).ok()?;
        let body = payload.get(HEADER..)?;
        if place >= count {
            return None;
        }
        if count == 1 {
            return Some(body.to_owned());
        }
        let mut pieces = lock(&self.pieces);
        pieces.retain(|_, gathering| gathering.started.elapsed() < PIECES_WAIT);
        let gathering = pieces.entry((node, number)).or_insert_with(|| Gathering {
            started: Instant::now(),
            parts: vec![None; count],
        });
        *gathering.parts.get_mut(place)? = Some(body.to_owned());
        if gathering.parts.iter().any(Option::is_none) {
            return None;
        }
        let whole = pieces.remove(&(node, number))?;
        Some(whole.parts.into_iter().flatten().collect())
    }
}

impl PgStore {
    /// Tells the other nodes `message` ([`NodeBus::payloads`]).
    pub(crate) fn tell_nodes(&self, message: &str) -> Result<()> {
        let payloads = self.nodes.payloads(message)?;
        let mut client = self.client()?;
        notify(&mut client, &payloads)
    }

    /// Hands `listener` what other nodes say.
    pub(crate) fn listen_to_nodes(&self, listener: Weak<dyn NodeListener>) {
        self.nodes.listen(listener);
    }

    /// This node's end of the channel.
    pub(crate) fn nodes(&self) -> &NodeBus {
        &self.nodes
    }
}

/// Sends `payloads` on the channel through `client`, in one transaction.
pub(crate) fn notify(client: &mut Client, payloads: &[String]) -> Result<()> {
    const SQL: &str = "SELECT pg_notify($1, $2)";
    if let [payload] = payloads {
        client.execute(SQL, &[&NODES_CHANNEL, payload])?;
        return Ok(());
    }
    let mut transaction = client.transaction()?;
    for payload in payloads {
        transaction.execute(SQL, &[&NODES_CHANNEL, payload])?;
    }
    transaction.commit()?;
    Ok(())
}

/// `message` cut into pieces of at most [`PIECE`] bytes, between characters.
fn pieces(message: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = message;
    while rest.len() > PIECE {
        let mut cut = PIECE;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out.push(rest);
    out
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Heard(Mutex<Vec<String>>);

    impl NodeListener for Heard {
        fn heard(&self, message: &str) -> Vec<String> {
            lock(&self.0).push(message.to_owned());
            vec![format!("re: {}", message.len())]
        }
    }

    /// A message past NOTIFY's limit goes in pieces, cut between
    /// characters, and comes out whole on another node, whatever order the
    /// pieces arrive in; a node does not hear itself.
    #[test]
    fn a_long_message_goes_in_pieces_and_comes_out_whole_elsewhere() {
        let (here, there) = (NodeBus::new(), NodeBus::new());
        let heard = Arc::new(Heard(Mutex::new(Vec::new())));
        let listener: Weak<Heard> = Arc::downgrade(&heard);
        there.listen(listener);
        let message = format!("{{\"sdp\":\"{}\"}}", "é".repeat(10_000));
        let mut payloads = here.payloads(&message).expect("payloads");
        assert_eq!(payloads.len(), 3);
        assert!(payloads.iter().all(|p| p.len() < 8_000));
        assert!(
            payloads.iter().all(|p| here.heard(p).is_empty()),
            "not to itself"
        );
        payloads.swap(0, 2);
        assert!(there.heard(&payloads[0]).is_empty());
        assert!(there.heard(&payloads[1]).is_empty());
        assert_eq!(
            there.heard(&payloads[2]),
            vec![format!("re: {}", message.len())]
        );
        assert_eq!(*lock(&heard.0), vec![message]);
        let short = here.payloads("hello").expect("payloads");
        assert_eq!(short.len(), 1);
        assert_eq!(there.heard(&short[0]), vec!["re: 5".to_owned()]);
    }

    #[test]
    fn too_long_and_nul_messages_are_refused_and_garbage_is_ignored() {
        let bus = NodeBus::new();
        assert!(bus.payloads(&"x".repeat(MAX_NODE_MESSAGE + 1)).is_err());
        assert!(bus.payloads("a\0b").is_err());
        assert!(bus.gather("").is_none());
        assert!(bus.gather("é".repeat(30).as_str()).is_none());
        assert!(
            bus.gather(&format!("{:016x}{:016x}00020001x", 1, 1))
                .is_none()
        );
    }
}
