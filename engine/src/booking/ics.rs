//! A booking as an iCalendar (RFC 5545) document, written by hand: CRLF line
//! ends, text values escaped, lines folded at 75 octets. A session keeps one
//! event through its reschedules: the `UID` is the first booking's, the
//! `SEQUENCE` the number of moves, so a calendar that imported an earlier
//! file moves the event instead of adding a second one; a cancelled booking
//! is `STATUS:CANCELLED`.

use droply_models::{Booking, BookingStatus, Timestamp};

use super::reschedule::MoveHistory;

/// The booking as a one-event calendar. `history` is the booking's line of
/// reschedules ([`super::move_history`]); `summary` names the session (e.g.
/// "Session with Grace Expert"); no email address is included.
pub fn to_ics(booking: &Booking, history: &MoveHistory, summary: &str, now: Timestamp) -> String {
    let status = match booking.status {
        BookingStatus::PendingPayment => "TENTATIVE",
        BookingStatus::Confirmed | BookingStatus::Completed | BookingStatus::NoShow => "CONFIRMED",
        BookingStatus::Cancelled => "CANCELLED",
    };
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Droply//Bookings//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        // One event for the whole line of reschedules: the first booking's.
        format!("UID:booking-{}@droply", history.first),
        format!("SEQUENCE:{}", history.moves),
        format!("DTSTAMP:{}", ics_time(now)),
        format!("DTSTART:{}", ics_time(booking.start_time)),
        format!("DTEND:{}", ics_time(booking.end_time)),
        format!("SUMMARY:{}", escape_text(summary)),
        format!("STATUS:{status}"),
    ];
    if let Some(message) = &booking.client_message {
        lines.push(format!("DESCRIPTION:{}", escape_text(message)));
    }
    if let Some(url) = &booking.meeting_url {
        lines.push(format!("URL:{}", url.as_str()));
    }
    lines.push("END:VEVENT".to_owned());
    lines.push("END:VCALENDAR".to_owned());
    let mut out = String::new();
    for line in lines {
        out.push_str(&fold(&line));
        out.push_str("\r\n");
    }
    out
}

/// `YYYYMMDDTHHMMSSZ`.
fn ics_time(at: Timestamp) -> String {
    at.as_datetime().format("%Y%m%dT%H%M%SZ").to_string()
}

/// RFC 5545 TEXT escaping: backslash, semicolon, comma and line breaks.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line into pieces of at most 75 octets, never splitting a
/// character; continuation lines start with one space.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_session_keeps_its_first_uid_and_counts_its_moves() {
        use droply_models::{BookingId, UserId};
        let mut booking = crate::test_rows::booking(UserId::new(1), UserId::new(2));
        booking.id = BookingId::new(9);
        booking.rescheduled_from = Some(BookingId::new(8));
        booking.status = BookingStatus::Cancelled;
        let history = MoveHistory {
            first: BookingId::new(7),
            moves: 2,
        };
        let now = Timestamp::parse_rfc3339("2027-01-01T00:00:00Z").expect("instant");
        let text = to_ics(&booking, &history, "Session", now);
        assert!(text.contains("\r\nUID:booking-7@droply\r\n"), "{text}");
        assert!(text.contains("\r\nSEQUENCE:2\r\n"), "{text}");
        assert!(text.contains("\r\nSTATUS:CANCELLED\r\n"), "{text}");
        assert!(!text.contains("booking-9"), "{text}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a,b;c\\d\r\ne\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn long_lines_fold_at_75_octets_on_char_boundaries() {
        let line = format!("DESCRIPTION:{}", "ü".repeat(60));
        let folded = fold(&line);
        for piece in folded.split("\r\n") {
            assert!(piece.len() <= 75, "{piece}");
        }
        assert_eq!(folded.replace("\r\n ", ""), line);
    }
}
