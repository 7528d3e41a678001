//! Tests of `hub`.

use super::*;

/// Regression: the message limiter remembered every sender ever seen.
fn hub() -> Arc<LiveHub> {
    let store = Store::open_temporary().expect("store");
    LiveHub::new(&LiveLimits::default(), &store)
}

#[test]
fn the_message_limiter_forgets_senders_now_and_then() {
    let hub = hub();
    for who in 0..PRUNE_EVERY {
        hub.check_message_rate(FrameRate::Room, 1, who)
            .expect("under the rate");
    }
    // Each sender sent one message: none is back at a full burst yet
    // (a burst refills at the rate), but the pruning ran and the map
    // holds no more than it did.
    assert!(hub.tracked_senders() <= PRUNE_EVERY as usize);
    // Forgotten once they are back at a full burst.
    std::thread::sleep(std::time::Duration::from_secs(
        60 / u64::from(LiveLimits::default().message_rate.per_minute.max(1)) + 1,
    ));
    for _ in 0..PRUNE_EVERY {
        hub.check_message_rate(FrameRate::Room, 2, 0).ok();
    }
    assert!(hub.tracked_senders() < 10, "{}", hub.tracked_senders());
}

/// Regression: malformed frames were parsed before the message rate was
/// checked, so a flood of them was never limited nor ended.
#[test]
fn every_frame_counts_against_the_rate_and_a_run_of_refused_ones_ends_the_connection() {
    let hub = hub();
    let burst = LiveLimits::default().message_rate.burst;
    let invalid = || Err(ApiError::new(ErrorCode::InvalidInput, "not JSON"));
    // Any frame spends the burst, as a message does.
    let gate = FrameGate::new(FrameRate::Room, 3, 1);
    for _ in 0..burst {
        assert!(gate.admit(&hub).is_ok(), "within the burst");
    }
    let over = gate.admit(&hub).expect_err("over the rate");
    assert_eq!(over.code().describe().0, "rate_limited");
    // A run of refused frames ends the connection at the limit.
    let mut gate = FrameGate::new(FrameRate::Room, 3, 2);
    let mut flooding_at = None;
    for n in 1..=MAX_REFUSED_FRAMES_IN_A_ROW + burst {
        let answer = gate.admit(&hub).and_then(|()| invalid());
        if gate.answered(&answer) {
            flooding_at = Some(n);
            break;
        }
    }
    assert_eq!(flooding_at, Some(MAX_REFUSED_FRAMES_IN_A_ROW));
    // A frame taken starts the run again; a ping never reaches the gate.
    let mut gate = FrameGate::new(FrameRate::Room, 4, 1);
    for _ in 1..MAX_REFUSED_FRAMES_IN_A_ROW {
        assert!(!gate.answered(&invalid()));
    }
    assert!(!gate.answered(&Ok(())));
    assert!(!gate.answered(&invalid()), "the run started again");
}

/// Regression: the signal relay counted frames against the drop-in
/// rooms' burst (20), so a WebRTC client trickling its ICE candidates
/// (a browser on a multi-homed machine gathers 10 to 40 within a
/// second), besides its offer, was refused `rate_limited` past the 20th
/// frame and, 20 refused frames on, closed with 1008: its call never
/// set up.
#[test]
fn a_burst_of_ice_candidates_through_the_signal_relay_is_relayed_not_closed() {
    let hub = hub();
    let burst = LiveLimits::default().message_rate.burst;
    // An offer and 40 candidates, sent at once.
    let setup = 1 + 40;
    assert!(setup > burst + MAX_REFUSED_FRAMES_IN_A_ROW);
    let mut relay = FrameGate::new(FrameRate::SignalRelay, 9, 1);
    for n in 1..=setup {
        let answer = relay.admit(&hub);
        assert!(answer.is_ok(), "frame {n} of the call's setup was refused");
        assert!(!relay.answered(&answer), "closed at frame {n}");
    }
    // The relay's burst is SIGNAL_RELAY_BURST frames, no more.
    for n in setup + 1..=SIGNAL_RELAY_BURST {
        assert!(relay.admit(&hub).is_ok(), "frame {n} within the burst");
    }
    // The sustained rate is the rooms': past its burst the relay refuses
    // every frame unread, and a flood is still closed.
    let mut flooding_at = None;
    for n in 1..=MAX_REFUSED_FRAMES_IN_A_ROW {
        let answer = relay.admit(&hub);
        let code = answer.as_ref().err().map(|err| err.code().describe().0);
        assert_eq!(code, Some("rate_limited"), "frame {n} past the burst");
        if relay.answered(&answer) {
            flooding_at = Some(n);
            break;
        }
    }
    assert_eq!(flooding_at, Some(MAX_REFUSED_FRAMES_IN_A_ROW));
    // A drop-in room keeps its own burst (and its own count: the same
    // sender spent nothing of it on the relay).
    let room = FrameGate::new(FrameRate::Room, 9, 1);
    let taken = (0..setup).filter(|_| room.admit(&hub).is_ok()).count();
    assert_eq!(taken, burst as usize);
}

/// Regression: a relay was forgotten only by the connection that served
/// it, so a handshake that never upgraded (the client hung up) left its
/// relay open for good, counting against the room cap.
#[test]
fn a_relay_stays_while_any_lease_is_held_and_goes_with_the_last() {
    let hub = hub();
    let booking = BookingId::new(7);
    let never_upgraded = hub.relay(booking).expect("lease");
    drop(never_upgraded);
    assert_eq!(hub.open_relays(), 0);
    let first = hub.relay(booking).expect("lease");
    let second = hub.relay(booking).expect("lease");
    assert!(
        Arc::ptr_eq(&first.relay, &second.relay),
        "one relay per booking"
    );
    drop(first);
    assert_eq!(hub.open_relays(), 1, "the second party still holds it");
    let third = hub.relay(booking).expect("lease");
    assert!(
        Arc::ptr_eq(&second.relay, &third.relay),
        "still the same relay"
    );
    drop((second, third));
    assert_eq!(hub.open_relays(), 0);
}
