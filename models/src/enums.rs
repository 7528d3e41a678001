//! Every status and kind in the data model, as closed enums that serialise
//! as snake_case strings, plus the booking lifecycle.

string_enum! {
    /// Where a booking is in its lifecycle.
    pub enum BookingStatus("booking_status") {
        /// Created; waiting for the client to pay.
        PendingPayment => "pending_payment",
        /// Paid and on the calendar.
        Confirmed => "confirmed",
        /// The session took place.
        Completed => "completed",
        /// Called off by either side (terminal).
        Cancelled => "cancelled",
        /// The client did not show up (terminal).
        NoShow => "no_show",
    }
}

impl BookingStatus {
    /// Whether a booking may move from `self` to `next`:
    /// pending_payment → confirmed | cancelled;
    /// confirmed → completed | cancelled | no_show; nothing else.
    pub const fn can_transition_to(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::PendingPayment, Self::Confirmed | Self::Cancelled)
                | (
                    Self::Confirmed,
                    Self::Completed | Self::Cancelled | Self::NoShow
                )
        )
    }

    /// Whether no further transition is possible.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled | Self::NoShow)
    }

    /// Whether a booking in this state holds its time slot.
    pub const fn blocks_slot(self) -> bool {
        matches!(self, Self::PendingPayment | Self::Confirmed)
    }
}

string_enum! {
    /// The state of a payment (booking or content purchase).
    pub enum PaymentStatus("payment_status") {
        /// Not paid yet.
        Pending => "pending",
        /// The payer must complete an extra step (e.g. 3-D Secure).
        RequiresAction => "requires_action",
        /// Paid.
        Succeeded => "succeeded",
        /// The payment failed.
        Failed => "failed",
        /// Paid, then part of it refunded.
        PartiallyRefunded => "partially_refunded",
        /// Paid, then refunded in full.
        Refunded => "refunded",
    }
}

impl PaymentStatus {
    /// Whether a payment may move from `self` to `next`: before money
    /// arrives it may wait for an extra step, fail, or (retried) succeed;
    /// once paid it can only be refunded, in parts and then in full;
    /// refunded in full is terminal. Staying put is not a move.
    pub const fn can_transition_to(self, next: Self) -> bool {
        matches!(
            (self, next),
            (
                Self::Pending | Self::RequiresAction | Self::Failed,
                Self::RequiresAction | Self::Succeeded | Self::Failed
            ) | (
                Self::Succeeded | Self::PartiallyRefunded,
                Self::PartiallyRefunded | Self::Refunded
            )
        ) && !matches!(
            (self, next),
            (Self::RequiresAction, Self::RequiresAction) | (Self::Failed, Self::Failed)
        )
    }

    /// Whether money was received (refunded or not).
    pub const fn is_paid(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::PartiallyRefunded | Self::Refunded
        )
    }
}

string_enum! {
    /// What a user did to another user's profile.
    pub enum InteractionType("interaction_type") {
        /// Opened the profile.
        View => "view",
        /// Clicked the profile in a list.
        Click => "click",
        /// Added to favourites.
        Favorite => "favorite",
        /// Removed from favourites.
        Unfavorite => "unfavorite",
        /// Booked a session.
        Book => "book",
        /// Sent a message.
        Message => "message",
        /// Shared the profile.
        Share => "share",
        /// Was shown the profile in search results.
        SearchImpression => "search_impression",
    }
}

string_enum! {
    /// The state of a payout to a user's bank.
    pub enum PayoutStatus("payout_status") {
        /// Requested, not sent.
        Pending => "pending",
        /// Sent, not yet arrived.
        InTransit => "in_transit",
        /// Arrived.
        Paid => "paid",
        /// Failed.
        Failed => "failed",
        /// Called off.
        Cancelled => "cancelled",
    }
}

string_enum! {
    /// How often a user's balance is paid out.
    pub enum PayoutSchedule("payout_schedule") {
        /// Every day.
        Daily => "daily",
        /// Every week (the default).
        Weekly => "weekly",
        /// Every month.
        Monthly => "monthly",
        /// Only on request.
        Manual => "manual",
    }
}

string_enum! {
    /// The state of a referral.
    pub enum ReferralStatus("referral_status") {
        /// The referred user signed up.
        Pending => "pending",
        /// The referred user did what earns a reward.
        Qualified => "qualified",
        /// The reward was granted.
        Rewarded => "rewarded",
        /// The referral lapsed.
        Expired => "expired",
    }
}

string_enum! {
    /// What earned a referral reward.
    pub enum RewardType("reward_type") {
        /// The referred user signed up.
        Signup => "signup",
        /// The referred user's first booking.
        FirstBooking => "first_booking",
        /// A later booking by the referred user.
        Booking => "booking",
        /// A sale of the referred user's content.
        ContentSale => "content_sale",
    }
}

impl RewardType {
    /// Whether a reward of this type must point at a booking.
    pub const fn needs_booking(self) -> bool {
        matches!(self, Self::FirstBooking | Self::Booking)
    }
}

string_enum! {
    /// The state of a referral reward.
    pub enum RewardStatus("reward_status") {
        /// Earned, not paid.
        Pending => "pending",
        /// Paid to the referrer.
        Paid => "paid",
        /// Withdrawn (e.g. the booking was refunded).
        Cancelled => "cancelled",
    }
}

string_enum! {
    /// The kind of a piece of content for sale.
    pub enum ContentType("content_type") {
        /// A video.
        Video => "video",
        /// An audio recording.
        Audio => "audio",
        /// A document (PDF etc.).
        Document => "document",
        /// An image.
        Image => "image",
        /// A course.
        Course => "course",
        /// A template.
        Template => "template",
        /// An article.
        Article => "article",
    }
}

string_enum! {
    /// Whether content is visible to buyers.
    pub enum ContentStatus("content_status") {
        /// Being prepared; only the creator sees it.
        Draft => "draft",
        /// For sale.
        Published => "published",
        /// Withdrawn from sale; past buyers keep access.
        Archived => "archived",
    }
}

string_enum! {
    /// The kind of a message in a drop-in session.
    pub enum DropinMessageType("message_type") {
        /// A question to the host.
        Question => "question",
        /// An answer.
        Answer => "answer",
        /// A comment.
        Comment => "comment",
        /// An emoji-style reaction.
        Reaction => "reaction",
        /// A message from the system (joins, leaves, ...).
        System => "system",
    }
}

string_enum! {
    /// What a category classifies.
    pub enum CategoryType("category_type") {
        /// An area of expertise.
        Expertise => "expertise",
        /// An industry.
        Industry => "industry",
        /// A kind of content.
        Content => "content",
    }
}

string_enum! {
    /// The state of a user's connected Stripe account.
    pub enum StripeAccountStatus("stripe_account_status") {
        /// No account connected (the default).
        NotConnected => "not_connected",
        /// Onboarding not finished.
        Pending => "pending",
        /// Connected, but Stripe limits it.
        Restricted => "restricted",
        /// Ready for charges and payouts.
        Active => "active",
        /// Disabled by Stripe.
        Disabled => "disabled",
    }
}

string_enum! {
    /// The layout of a public profile page.
    pub enum ProfileLayout("profile_layout") {
        /// The default layout.
        Classic => "classic",
        /// A modern layout.
        Modern => "modern",
        /// A minimal layout.
        Minimal => "minimal",
        /// A grid layout.
        Grid => "grid",
        /// A card layout.
        Card => "card",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn booking_transitions() {
        use BookingStatus::*;
        let allowed = [
            (PendingPayment, Confirmed),
            (PendingPayment, Cancelled),
            (Confirmed, Completed),
            (Confirmed, Cancelled),
            (Confirmed, NoShow),
        ];
        for &from in BookingStatus::ALL {
            for &to in BookingStatus::ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
            let has_next = BookingStatus::ALL
                .iter()
                .any(|&to| from.can_transition_to(to));
            assert_eq!(from.is_terminal(), !has_next);
        }
    }

    fn check_strings<T>(all: &[T])
    where
        T: Copy + std::fmt::Display + FromStr + PartialEq + std::fmt::Debug + serde::Serialize,
    {
        for v in all {
            let text = v.to_string();
            assert_eq!(T::from_str(&text).ok(), Some(*v));
            assert_eq!(serde_json::to_string(v).ok(), Some(format!("\"{text}\"")));
        }
        assert!(T::from_str("nope").is_err());
    }

    #[test]
    fn strings_match_serde() {
        check_strings(BookingStatus::ALL);
        check_strings(PaymentStatus::ALL);
        check_strings(InteractionType::ALL);
        check_strings(PayoutStatus::ALL);
        check_strings(PayoutSchedule::ALL);
        check_strings(ReferralStatus::ALL);
        check_strings(RewardType::ALL);
        check_strings(RewardStatus::ALL);
        check_strings(ContentType::ALL);
        check_strings(ContentStatus::ALL);
        check_strings(DropinMessageType::ALL);
        check_strings(CategoryType::ALL);
        check_strings(StripeAccountStatus::ALL);
        check_strings(ProfileLayout::ALL);
        assert_eq!(
            InteractionType::SearchImpression.as_str(),
            "search_impression"
        );
    }

    #[test]
    fn error_lists_choices() {
        let err = BookingStatus::from_str("done").expect_err("unknown");
        assert!(
            err.to_string()
                .starts_with("invalid booking_status: unknown value \"done\"")
        );
    }

    #[test]
    fn payment_moves() {
        use PaymentStatus::*;
        let allowed = [
            (Pending, RequiresAction),
            (Pending, Succeeded),
            (Pending, Failed),
            (RequiresAction, Succeeded),
            (RequiresAction, Failed),
            (Failed, Succeeded),
            (Failed, RequiresAction),
            (Succeeded, PartiallyRefunded),
            (Succeeded, Refunded),
            (PartiallyRefunded, PartiallyRefunded),
            (PartiallyRefunded, Refunded),
        ];
        for from in PaymentStatus::ALL {
            for to in PaymentStatus::ALL {
                assert_eq!(
                    from.can_transition_to(*to),
                    allowed.contains(&(*from, *to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
        assert!(!Refunded.can_transition_to(Succeeded));
        assert!(Refunded.is_paid() && PartiallyRefunded.is_paid() && !Failed.is_paid());
    }
}
