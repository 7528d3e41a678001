//! The engine's video use cases: run the room job now, join a booking's
//! call (a Daily meeting token or the WebRTC fallback), apply Daily's
//! webhooks, list a booking's recordings and fetch a download link. The
//! rules live in [`crate::video`].

use droply_models::{BookingId, Timestamp, UserId};

use super::Engine;
use crate::video::{
    self, DailyReceipt, MeetingAccess, Recording, RecordingLink, RoomSweep, VideoConfig,
};
use crate::{Error, Result};

impl Engine {
    /// The video configuration.
    pub fn video_config(&self) -> &VideoConfig {
        &self.inner.video.config
    }

    /// Whether Daily.co is configured (otherwise meetings use WebRTC).
    pub fn daily_enabled(&self) -> bool {
        self.inner.video.daily.is_some()
    }

    /// Runs one pass of the room job now (what the background job does
    /// every `sweep_every`); nothing without Daily.
    pub fn run_video_sweep(&self) -> Result<RoomSweep> {
        match &self.inner.video.daily {
            Some(daily) => video::room_sweep(
                self.store(),
                daily,
                &self.inner.video.config,
                Timestamp::now(),
            ),
            None => Ok(RoomSweep::default()),
        }
    }

    /// How `viewer` joins booking `id`'s call now.
    pub fn meeting(&self, id: BookingId, viewer: UserId) -> Result<MeetingAccess> {
        video::meeting_for(
            self.store(),
            self.inner.video.daily.as_deref(),
            &self.inner.video.config,
            id,
            viewer,
            Timestamp::now(),
        )
    }

    /// `viewer`'s place in booking `id`'s WebRTC relay now.
    pub fn signal_party(&self, id: BookingId, viewer: UserId) -> Result<video::SignalParty> {
        video::signal_party(
            self.store(),
            &self.inner.video.config,
            id,
            viewer,
            Timestamp::now(),
        )
    }

    /// Verifies a Daily webhook delivery (signature and timestamp headers)
    /// and applies it once; `VideoNotConfigured` without a webhook secret.
    pub fn daily_webhook(
        &self,
        body: &[u8],
        signature: Option<&str>,
        timestamp: Option<&str>,
    ) -> Result<DailyReceipt> {
        let secret = self
            .inner
            .video
            .config
            .daily
            .as_ref()
            .and_then(|daily| daily.webhook_secret.as_ref())
            .ok_or(Error::VideoNotConfigured)?;
        let now = Timestamp::now().as_micros().div_euclid(1_000_000);
        video::verify_daily(body, signature, timestamp, secret, now)?;
        let receipt = video::apply_daily_event(self.store(), body)?;
        tracing::info!(applied = receipt.applied, outcome = %receipt.outcome, "Daily event");
        Ok(receipt)
    }

    /// The recordings of booking `id`, for its two parties.
    pub fn recordings(&self, id: BookingId, viewer: UserId) -> Result<Vec<Recording>> {
        video::recordings_of(self.store(), id, viewer)
    }

    /// A short-lived download link of one recording of booking `id`, for
    /// its two parties, fetched from Daily now.
    pub fn recording_link(
        &self,
        id: BookingId,
        recording_id: &str,
        viewer: UserId,
    ) -> Result<RecordingLink> {
        video::recording_link(
            self.store(),
            self.inner.video.daily.as_deref(),
            id,
            recording_id,
            viewer,
        )
    }
}
