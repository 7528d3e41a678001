//! What the API sends back: the shapes of rows as callers may see them
//! (one's own account, a public profile and its branding, a booking, a ranked expert, one's
//! payouts and earnings, one's calendar connection, content, its purchases and its search hits,
//! drop-ins and their messages), and
//! the OpenAPI schemas of the model types the API sends or takes as they are.

mod account_view;
mod booking_view;
mod branding_view;
mod calendar_view;
mod content_hit_view;
mod content_views;
mod dropin_views;
mod meeting_view;
pub mod model_schemas;
mod money_views;
mod public_profile;
mod ranked_expert_view;

pub use account_view::AccountView;
pub use booking_view::BookingView;
pub use branding_view::Branding;
pub use calendar_view::CalendarStatusView;
pub use content_hit_view::ContentHitView;
pub use content_views::{BoughtView, ContentView, CreatorView, PurchaseView};
pub use dropin_views::{AuthorView, DropinView, JoinedView, MessageView};
pub use meeting_view::{MeetingView, RecordingLinkView, RecordingList, RecordingView};
pub use money_views::{
    CreatedBookingView, EarningsView, PaymentView, PayoutAccountView, PayoutView,
};
pub use public_profile::PublicProfile;
pub use ranked_expert_view::{MatchReasonView, RankedExpertList, reason_views};
