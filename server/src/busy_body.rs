//! A response body that keeps its request counted as busy on the
//! connection's slot (a [`BusyGuard`]) until hyper has taken its last frame
//! or dropped it (the client went away, the connection closed), as long as
//! it moves. A handler returns as soon as its response starts, but a
//! streamed body (a content download, 64 KiB a frame) is sent afterwards;
//! while it is, the connection is not idle, so the connection cap must not
//! close it to make room for a newcomer. But hyper has no write timeout: a
//! client that stops reading would hold its slot for good. So every frame
//! hyper takes of the body stamps the connection's activity time, and a
//! body that has had no frame taken for the stall limit leaves its
//! connection replaceable like an idle one (see `connection_slots`). The
//! guard stamps the time again when it is released, so a connection that
//! just finished a long download counts as fresh. What is not covered: the
//! writing of the last frame taken (a whole answer of one frame, as JSON
//! answers and pages are, or a download's last 64 KiB), during which the
//! connection, just stamped, is the last an eviction would pick.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use hyper::body::{Frame, SizeHint};

use crate::connection_slots::BusyGuard;

/// A response body holding its connection's [`BusyGuard`] until it ends.
#[derive(Debug)]
pub(crate) struct BusyBody {
    inner: Body,
    /// Released when the body reports its end (or is dropped).
    busy: Option<BusyGuard>,
}

impl BusyBody {
    /// `inner`, counting as busy through `busy` until sent or dropped, and
    /// as stalled when no frame of it is taken for the stall limit.
    pub(crate) fn new(inner: Body, mut busy: BusyGuard) -> Self {
        busy.start_sending();
        BusyBody {
            inner,
            busy: Some(busy),
        }
    }
}

impl HttpBody for BusyBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        match &frame {
            Poll::Ready(Some(Ok(_))) => {
                if let Some(busy) = &this.busy {
                    busy.progressed();
                }
            }
            Poll::Ready(None) => this.busy = None,
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use super::*;
    use crate::connection_slots::ConnectionSlots;

    fn two_chunks() -> Body {
        Body::from_stream(futures_util::stream::iter([
            Ok::<_, Infallible>("first "),
            Ok("second"),
        ]))
    }

    #[tokio::test]
    async fn a_body_still_sending_keeps_its_connection_from_being_replaced() {
        let slots = ConnectionSlots::new(2);
        let sending = slots.admit().expect("first connection");
        let body = BusyBody::new(two_chunks(), sending.handle().busy());
        tokio::time::sleep(Duration::from_millis(2)).await;
        let idle = slots.admit().expect("second connection");
        // The cap is full: the newcomer takes the idle connection's slot,
        // not the one still sending, although its activity is older.
        let _newcomer = slots.admit().expect("third connection");
        assert!(idle.told_to_close().await);
        assert!(!sending.told_to_close().await);
        drop(body);
    }

    #[tokio::test]
    async fn a_download_the_client_stopped_reading_can_be_closed_to_make_room() {
        let stall_limit = Duration::from_secs(2);
        let slots = ConnectionSlots::with_stall_limit(1, stall_limit);
        let downloading = slots.admit().expect("first connection");
        let mut body = BusyBody::new(two_chunks(), downloading.handle().busy());
        let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(first.is_some_and(|frame| frame.is_ok()));
        // The client reads slowly: hyper takes the second frame later, and
        // the download, moving, keeps its slot past the stall limit.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let second = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(second.is_some_and(|frame| frame.is_ok()));
        // A second since the last frame, under the limit by a second: a
        // loaded machine oversleeping does not turn this into a stall.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(
            slots.admit().is_none(),
            "a download that moves keeps its slot"
        );
        assert!(!downloading.told_to_close().await);
        // Then the client stops reading: hyper takes no frame (not even the
        // body's end), and after the stall limit the slot is given away.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let _newcomer = slots.admit().expect("takes the stalled download's slot");
        assert!(downloading.told_to_close().await);
        assert_eq!((slots.refused(), slots.evicted()), (1, 1));
        drop(body);
    }

    #[tokio::test]
    async fn a_body_sent_in_full_or_dropped_frees_its_connection() {
        let slots = ConnectionSlots::new(1);
        let sending = slots.admit().expect("first connection");
        let mut body = BusyBody::new(two_chunks(), sending.handle().busy());
        assert!(slots.admit().is_none(), "busy while the body is unsent");
        let mut sent = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            if let Ok(data) = frame.expect("a frame").into_data() {
                sent.extend_from_slice(&data);
            }
        }
        assert_eq!(sent, b"first second");
        // Sent in full (the body itself still alive): the connection is idle.
        let after_download = slots.admit().expect("replaces the finished download");
        assert!(sending.told_to_close().await);

        let unsent = BusyBody::new(two_chunks(), after_download.handle().busy());
        assert!(slots.admit().is_none(), "busy while the body is unsent");
        drop(unsent);
        assert!(slots.admit().is_some(), "a dropped body frees its slot");
    }
}
