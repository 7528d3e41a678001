//! Rows with every field set to a non-default value, so a round trip that
//! dropped or mixed up a field would show, and a store in a fresh temporary
//! directory.

use droply_engine::Store;
use droply_models::*;

/// The instant written in RFC 3339 `text`.
pub fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("valid instant")
}

/// `minor` euro cents.
pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

fn url(text: &str) -> HttpUrl {
    HttpUrl::parse(text).expect("valid url")
}

/// A user named `name` with every field set.
pub fn full_user(name: &str) -> User {
    let now = at("2026-10-01T08:30:00.123456Z");
    let mut user = User::new(
        NewUser {
            username: Username::parse(name).expect("username"),
            email: Email::parse(&format!("{name}@example.com")).expect("email"),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
            full_name: format!("{name} Example"),
            currency: Currency::EUR,
            timezone: TimeZone::parse("Europe/Berlin").expect("zone"),
            language: LanguageCode::parse("de-DE").expect("language"),
            referral_code: ReferralCode::parse(&format!(
                "REF{}",
                name.to_uppercase().replace(['_', '.'], "")
            ))
            .expect("code"),
            referred_by: None,
        },
        UserId::new(0),
        now,
    );
    user.phone = Some(PhoneNumber::parse("+4915112345678").expect("phone"));
    user.bio = "Rust engineer with twelve years in payments.".to_owned();
    user.industry = "Technology".to_owned();
    user.profession = "Backend Engineer".to_owned();
    user.location = "Berlin, Germany".to_owned();
    user.skills = "Rust, Kubernetes, PostgreSQL".to_owned();
    user.skills_1 = Some("Rust".to_owned());
    user.skills_2 = Some("Kubernetes".to_owned());
    user.skills_3 = Some("PostgreSQL".to_owned());
    user.specialty_tags = vec!["payments".to_owned(), "distributed systems".to_owned()];
    user.profile_picture = Some(url("https://cdn.example.com/p/1.png"));
    user.background_color = HexColor::parse("#101010").expect("color");
    user.primary_color = HexColor::parse("#ABCDEF").expect("color");
    user.secondary_color = HexColor::parse("#123").expect("color");
    user.font_family = FontFamily::Poppins;
    user.font_size = FontSize::new(18).expect("size");
    user.profile_layout = ProfileLayout::Grid;
    user.hourly_rate = Some(eur(12_500));
    user.rating = Rating::from_parts(43, 9).expect("rating");
    user.is_available = false;
    user.is_featured_user = true;
    user.stripe_account_id = Some(format!("acct_1{name}"));
    user.stripe_account_status = StripeAccountStatus::Active;
    user.payout_enabled = true;
    user.payout_schedule = PayoutSchedule::Monthly;
    // Balances are caches of the ledger, which a bare user has none of:
    // zero, or `verify_integrity` would rightly object.
    user.total_earnings = eur(0);
    user.total_payouts = eur(0);
    user.pending_balance = eur(0);
    user.total_referral_earnings = eur(0);
    user.linkedin_url = Some(url("https://linkedin.com/in/x"));
    user.twitter_url = Some(url("https://twitter.com/x"));
    user.github_url = Some(url("https://github.com/x"));
    user.instagram_url = Some(url("https://instagram.com/x"));
    user.facebook_url = Some(url("https://facebook.com/x"));
    user.youtube_url = Some(url("https://youtube.com/@x"));
    user.snapchat_url = Some(url("https://snapchat.com/add/x"));
    user.website_url = Some(url("http://x.example.org/about"));
    user.service_description = "Architecture reviews and pairing.".to_owned();
    user.session_duration = 90;
    user.content_description = "Courses on async Rust.".to_owned();
    user.content_categories = vec![CategoryId::new(3), CategoryId::new(5)];
    user.google_calendar_connected = true;
    user.google_calendar_token = Some("ya29.token".to_owned());
    user.google_calendar_refresh_token = Some("1//refresh".to_owned());
    user.google_calendar_id = Some("primary".to_owned());
    user.referral_count = 4;
    user.email_notifications = false;
    user.updated_at = at("2026-10-02T09:00:00Z");
    user
}

/// A completed, paid booking of `provider` by `booker` at `start`, one hour,
/// with every field set.
pub fn full_booking(booker: UserId, provider: UserId, start: &str) -> Booking {
    let start_time = at(start);
    let mut booking = Booking::new(NewBooking {
        user_id: booker,
        provider_id: provider,
        start_time,
        duration: 60,
        payment_amount: eur(12_500),
        client_name: "Ada Client".to_owned(),
        client_email: Email::parse("ada@example.org").expect("email"),
        client_message: Some("Let's review my service mesh.".to_owned()),
        created_at: at("2026-09-01T10:00:00Z"),
    });
    booking.status = BookingStatus::Completed;
    booking.payment_status = PaymentStatus::Succeeded;
    booking.stripe_payment_intent_id = Some("pi_123".to_owned());
    booking.stripe_session_id = Some("cs_123".to_owned());
    booking.meeting_room_id = Some("room-1".to_owned());
    booking.meeting_url = Some(url("https://droply.daily.co/room-1"));
    booking.meeting_started_at = Some(start_time.plus_minutes(1));
    booking.meeting_ended_at = Some(start_time.plus_minutes(58));
    booking.meeting_duration = Some(57);
    booking.recording_url = Some(url("https://cdn.example.com/rec/1.mp4"));
    booking.rescheduled_from = None;
    booking.cancellation_reason = Some("none, kept".to_owned());
    booking
}

/// `user` saved `expert` at `created`.
pub fn favorite(user: UserId, expert: UserId, created: &str) -> Favorite {
    Favorite {
        id: FavoriteId::new(0),
        user_id: user,
        favorited_user_id: expert,
        created_at: at(created),
    }
}

/// `user` did `kind` to `target` at `created`.
pub fn interaction(
    user: UserId,
    target: UserId,
    kind: InteractionType,
    created: &str,
) -> UserInteraction {
    UserInteraction::new(user, target, kind, at(created))
}

/// A weekly rule of `user` on `weekday` (0 Monday) from `start` to `end`, inactive.
pub fn rule(user: UserId, weekday: u8, start: &str, end: &str) -> AvailabilityRule {
    AvailabilityRule {
        id: AvailabilityRuleId::new(0),
        user_id: user,
        weekday: Weekday::new(weekday).expect("weekday"),
        start: LocalTime::parse(start).expect("time"),
        end: LocalTime::parse(end).expect("time"),
        is_active: false,
        created_at: at("2026-01-01T00:00:00Z"),
        updated_at: at("2026-01-02T00:00:00Z"),
    }
}

/// A blocking exception of `user` from `start` to `end`.
pub fn exception(user: UserId, start: &str, end: &str) -> AvailabilityException {
    AvailabilityException {
        id: AvailabilityExceptionId::new(0),
        user_id: user,
        start: at(start),
        end: at(end),
        reason: Some("conference".to_owned()),
        is_blocked: true,
        created_at: at("2026-01-01T00:00:00Z"),
    }
}

/// A payout to `user` made at `created`, every field set.
pub fn payout(user: UserId, created: &str) -> Payout {
    Payout {
        id: PayoutId::new(0),
        user_id: user,
        amount: eur(40_000),
        stripe_transfer_id: Some("tr_1".to_owned()),
        stripe_payout_id: Some("po_1".to_owned()),
        status: PayoutStatus::Paid,
        created_at: at(created),
        paid_at: Some(at(created).plus_days(2)),
    }
}

/// `referrer` brought `referred` in at `created`.
pub fn referral(referrer: UserId, referred: UserId, created: &str) -> Referral {
    Referral {
        id: ReferralId::new(0),
        referrer_id: referrer,
        referred_user_id: referred,
        referral_code: ReferralCode::parse("FRIEND2026").expect("code"),
        created_at: at(created),
        status: ReferralStatus::Qualified,
    }
}

/// A referral reward, every field set.
pub fn reward(
    referrer: UserId,
    referred: UserId,
    booking: Option<BookingId>,
    created: &str,
) -> ReferralReward {
    ReferralReward {
        id: ReferralRewardId::new(0),
        referrer_id: referrer,
        referred_user_id: referred,
        booking_id: booking,
        reward_amount: eur(1_000),
        reward_type: if booking.is_some() {
            RewardType::FirstBooking
        } else {
            RewardType::Signup
        },
        status: RewardStatus::Paid,
        created_at: at(created),
        paid_at: Some(at(created).plus_days(1)),
        content_purchase_id: None,
    }
}

/// A piece of content by `creator`, every field set.
pub fn content(creator: UserId, created: &str) -> Content {
    Content {
        id: ContentId::new(0),
        user_id: creator,
        title: "Async Rust in production".to_owned(),
        description: "Four hours of video.".to_owned(),
        content_type: ContentType::Course,
        price: eur(4_900),
        file_path: "content/1/course.zip".to_owned(),
        file_size: 1_234_567_890,
        thumbnail_path: Some("content/1/thumb.png".to_owned()),
        preview_available: true,
        preview_path: Some("content/1/preview.mp4".to_owned()),
        status: ContentStatus::Published,
        views: 1_024,
        purchases: 33,
        earnings: eur(161_700),
        created_at: at(created),
        updated_at: at(created).plus_days(3),
        category_id: None,
        file_meta: Some(FileMeta {
            media_type: "application/zip".to_owned(),
            size: 1_234_567_890,
            sha256: "0f".repeat(32),
        }),
        preview_meta: Some(FileMeta {
            media_type: "video/mp4".to_owned(),
            size: 4_096,
            sha256: "a1".repeat(32),
        }),
    }
}

/// `buyer` bought `content` at `created`.
pub fn purchase(buyer: UserId, content: ContentId, created: &str) -> ContentPurchase {
    ContentPurchase {
        id: ContentPurchaseId::new(0),
        buyer_id: buyer,
        content_id: content,
        amount_paid: eur(4_900),
        payment_status: PaymentStatus::Refunded,
        stripe_payment_intent_id: Some("pi_987".to_owned()),
        created_at: at(created),
    }
}

/// A drop-in session hosted by `host` with `code`.
pub fn dropin(host: UserId, code: &str, created: &str) -> DropinSession {
    DropinSession {
        id: DropinSessionId::new(0),
        host_id: host,
        topic: "Ask me about Kubernetes".to_owned(),
        description: "Open Q&A, bring your YAML.".to_owned(),
        max_participants: 40,
        current_participants: 12,
        is_active: true,
        is_anonymous: true,
        session_code: SessionCode::parse(code).expect("code"),
        created_at: at(created),
        started_at: Some(at(created).plus_minutes(5)),
        ended_at: Some(at(created).plus_minutes(65)),
        duration_minutes: 60,
    }
}

/// A participant of a drop-in session.
pub fn participant(
    session: DropinSessionId,
    user: Option<UserId>,
    joined: &str,
) -> DropinParticipant {
    DropinParticipant {
        id: DropinParticipantId::new(0),
        session_id: session,
        user_id: user,
        anonymous_name: Some("Curious Otter".to_owned()),
        joined_at: at(joined),
        left_at: Some(at(joined).plus_minutes(20)),
        is_active: false,
    }
}

/// A message in a drop-in session.
pub fn message(
    session: DropinSessionId,
    participant: DropinParticipantId,
    created: &str,
) -> DropinMessage {
    DropinMessage {
        id: DropinMessageId::new(0),
        session_id: session,
        participant_id: participant,
        message_type: DropinMessageType::Question,
        content: "How do you size pods?".to_owned(),
        is_anonymous: true,
        created_at: at(created),
        reply_to: None,
        removed_at: None,
    }
}

/// A stored match of `expert` for `user`.
pub fn ai_match(user: UserId, expert: UserId, created: &str) -> AiMatch {
    AiMatch {
        id: AiMatchId::new(0),
        user_id: user,
        matched_user_id: expert,
        query: "rust payments expert".to_owned(),
        match_score: 0.87,
        match_reasons: vec![MatchReason {
            signal: "skills".to_owned(),
            value: "Rust".to_owned(),
            weight: 0.4,
            text: "skills: Rust".to_owned(),
        }],
        created_at: at(created),
        is_viewed: true,
        is_acted_upon: true,
    }
}

/// A category named `name`.
pub fn category(name: &str) -> Category {
    Category {
        id: CategoryId::new(0),
        name: name.to_owned(),
        category_type: CategoryType::Content,
        is_active: false,
    }
}

/// A store in a fresh temporary directory (kept alive by the returned guard).
pub fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("open");
    (dir, store)
}

/// The store's backends, each test of the store runs on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// sled in a temporary directory.
    Sled,
    /// A fresh PostgreSQL database ([`crate::postgres::fresh_database`]).
    Postgres,
}

/// A place for a test's store that can be opened, dropped and reopened.
pub struct StorePlace {
    /// Which backend.
    pub backend: Backend,
    /// Where: opening it again finds what was written before.
    pub location: droply_engine::store::StoreLocation,
    _dir: Option<tempfile::TempDir>,
}

impl StorePlace {
    /// A new, empty place on `backend`.
    pub fn new(backend: Backend) -> StorePlace {
        use droply_engine::store::StoreLocation;
        match backend {
            Backend::Sled => {
                let dir = tempfile::tempdir().expect("tempdir");
                StorePlace {
                    backend,
                    location: StoreLocation::Sled(dir.path().join("store")),
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => StorePlace {
                backend,
                location: StoreLocation::Postgres(crate::postgres::fresh_database()),
                _dir: None,
            },
        }
    }

    /// Opens (or reopens) the store.
    pub fn open(&self) -> Store {
        Store::open_at(&self.location).expect("open the store")
    }
}

/// Makes each named `fn(&StorePlace)` two tests, `NAME::sled` and
/// `NAME::postgres`, one per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sled() {
                    super::$name(&$crate::fixtures::StorePlace::new($crate::fixtures::Backend::Sled));
                }

                #[test]
                fn postgres() {
                    super::$name(&$crate::fixtures::StorePlace::new(
                        $crate::fixtures::Backend::Postgres,
                    ));
                }
            }
        )*
    };
}

/// Two plain users: a client and an expert.
pub fn two_users(store: &Store) -> (User, User) {
    let client = store.users().create(full_user("client")).expect("client");
    let expert = store.users().create(full_user("expert")).expect("expert");
    (client, expert)
}
