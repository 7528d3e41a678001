//! Tests of the signal relay across nodes: a side held on another node is
//! present and reached through notes, a frame from another node announces
//! its sender first, the newer holder of a side keeps it on every node, and
//! a note goes between nodes and back unchanged.

use super::*;

fn holder(at: i64, node: u64) -> Holder {
    Holder {
        at,
        node,
        connection: 1,
    }
}

fn frames(inbox: &mut mpsc::Receiver<String>) -> Vec<Value> {
    std::iter::from_fn(|| inbox.try_recv().ok())
        .map(|frame| serde_json::from_str(&frame).expect("json"))
        .collect()
}

fn peer(present: bool) -> Value {
    serde_json::json!({"type": "peer", "present": present})
}

/// The client is on this node, the provider on another: each hears of
/// the other, frames go both ways, and the provider's leaving is told.
#[test]
fn a_side_on_another_node_is_present_and_reached_through_notes() {
    let booking = BookingId::new(7);
    let relay = Relay::default();
    let (tx, mut client) = mpsc::channel(INBOX);
    let mine = holder(10, 1);
    let took = relay.take(booking, 0, mine, tx);
    assert_eq!(took.event, RelayEvent::Took(mine));
    assert_eq!(frames(&mut client), vec![peer(false)]);
    assert!(
        relay.pass(booking, 0, mine, "early".to_owned()).is_err(),
        "nobody to send to yet"
    );

    let theirs = holder(20, 2);
    let answers = relay.heard(RelayNote {
        booking: 7,
        side: 1,
        event: RelayEvent::Took(theirs),
    });
    assert_eq!(frames(&mut client), vec![peer(true)]);
    assert_eq!(
        answers,
        vec![RelayNote {
            booking: 7,
            side: 0,
            event: RelayEvent::Here(mine),
        }],
        "the new side's node learns the client is here"
    );

    let note = relay
        .pass(booking, 0, mine, "offer".to_owned())
        .expect("passed")
        .expect("to the other node");
    assert_eq!(
        note,
        RelayNote {
            booking: 7,
            side: 1,
            event: RelayEvent::Signal {
                from: mine,
                frame: "offer".to_owned(),
            },
        }
    );
    relay.heard(RelayNote {
        booking: 7,
        side: 0,
        event: RelayEvent::Signal {
            from: theirs,
            frame: "\"answer\"".to_owned(),
        },
    });
    assert_eq!(frames(&mut client), vec![Value::from("answer")]);

    // An older holder's goodbye is not the present holder's.
    relay.heard(RelayNote {
        booking: 7,
        side: 1,
        event: RelayEvent::Left(holder(15, 3)),
    });
    assert!(frames(&mut client).is_empty());
    relay.heard(RelayNote {
        booking: 7,
        side: 1,
        event: RelayEvent::Left(theirs),
    });
    assert_eq!(frames(&mut client), vec![peer(false)]);
    assert_eq!(
        relay.leave(booking, 0, mine),
        Some(RelayNote {
            booking: 7,
            side: 0,
            event: RelayEvent::Left(mine),
        })
    );
}

/// A frame from a side this node has not heard of yet tells the
/// receiver its peer is there before the frame itself.
#[test]
fn a_signal_from_another_node_announces_its_sender_first() {
    let booking = BookingId::new(7);
    let relay = Relay::default();
    let (tx, mut provider) = mpsc::channel(INBOX);
    relay.take(booking, 1, holder(10, 1), tx);
    assert_eq!(frames(&mut provider), vec![peer(false)]);
    relay.heard(RelayNote {
        booking: 7,
        side: 1,
        event: RelayEvent::Signal {
            from: holder(20, 2),
            frame: "\"offer\"".to_owned(),
        },
    });
    assert_eq!(
        frames(&mut provider),
        vec![peer(true), Value::from("offer")]
    );
}

/// The same side held on two nodes: the newer holder keeps it, on both.
#[test]
fn the_newer_holder_of_a_side_keeps_it_across_nodes() {
    let booking = BookingId::new(7);
    let relay = Relay::default();
    let (tx, mut older) = mpsc::channel(INBOX);
    relay.take(booking, 0, holder(10, 1), tx);
    let _ = frames(&mut older);
    // An older holder elsewhere changes nothing, and hears of this one.
    let answers = relay.heard(RelayNote {
        booking: 7,
        side: 0,
        event: RelayEvent::Took(holder(5, 2)),
    });
    assert_eq!(answers.len(), 1);
    assert!(older.try_recv().is_err() && !older.is_closed());
    // A newer one replaces this node's connection.
    let answers = relay.heard(RelayNote {
        booking: 7,
        side: 0,
        event: RelayEvent::Took(holder(30, 2)),
    });
    assert!(answers.is_empty());
    assert!(older.is_closed(), "the older connection is let go");
    assert_eq!(relay.leave(booking, 0, holder(10, 1)), None);
}

#[test]
fn a_note_goes_between_nodes_and_back_unchanged() {
    let note = NodeNote::Relay(RelayNote {
        booking: 9,
        side: 1,
        event: RelayEvent::Signal {
            from: holder(1, 2),
            frame: "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}".to_owned(),
        },
    });
    let back: NodeNote = serde_json::from_str(&note.to_message()).expect("parses");
    let (NodeNote::Relay(back), NodeNote::Relay(sent)) = (back, note);
    assert_eq!(back, sent);
}
