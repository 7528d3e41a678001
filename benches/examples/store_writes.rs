//! Booking writes per second on a store: THREADS writers each book their
//! own provider's next free hour, one booking per transaction (the row, its
//! index entries and its feed entry), for SECONDS. Prints writes/s and the
//! p50/p99 of one write as JSON. The store is `sled:DIR` or a PostgreSQL URL.
//!
//!     cargo run --profile bench -p droply-benches --example store_writes -- STORE [THREADS] [SECONDS]

use std::time::{Duration, Instant};

use droply_engine::Store;
use droply_engine::store::StoreLocation;
use droply_models::{
    Booking, Currency, Email, LanguageCode, Money, NewBooking, NewUser, ReferralCode, TimeZone,
    Timestamp, User, UserId, Username,
};

fn user(name: &str) -> Result<User, Box<dyn std::error::Error>> {
    Ok(User::new(
        NewUser {
            username: Username::parse(name)?,
            email: Email::parse(&format!("{name}@example.com"))?,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            full_name: name.into(),
            currency: Currency::EUR,
            timezone: TimeZone::parse("UTC")?,
            language: LanguageCode::parse("en")?,
            referral_code: ReferralCode::parse(&format!("REF{}", name.to_uppercase()))?,
            referred_by: None,
        },
        UserId::new(0),
        Timestamp::now(),
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let location: StoreLocation = args
        .next()
        .ok_or("usage: store_writes STORE [THREADS] [SECONDS]")?
        .parse()?;
    let threads: usize = args.next().map_or(Ok(8), |v| v.parse())?;
    let seconds: u64 = args.next().map_or(Ok(20), |v| v.parse())?;
    let store = Store::open_at(&location)?;
    let run = format!("w{}", Timestamp::now().as_micros() % 1_000_000_000);
    let client = store.users().create(user(&format!("{run}c"))?)?;
    let providers: Vec<User> = (0..threads)
        .map(|i| Ok(store.users().create(user(&format!("{run}p{i}"))?)?))
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    let first_hour = Timestamp::parse_rfc3339("2030-01-07T00:00:00Z")?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let latencies: Vec<Vec<Duration>> = std::thread::scope(|scope| {
        let handles: Vec<_> = providers
            .iter()
            .map(|provider| {
                let (store, client) = (&store, &client);
                scope.spawn(move || {
                    let mut took = Vec::new();
                    let mut hour = 0_i64;
                    while Instant::now() < deadline {
                        let booking = Booking::new(NewBooking {
                            user_id: client.id,
                            provider_id: provider.id,
                            start_time: first_hour.plus_minutes(60 * hour),
                            duration: 60,
                            payment_amount: Money::new(0, Currency::EUR),
                            client_name: "Load".to_owned(),
                            client_email: client.email.clone(),
                            client_message: None,
                            created_at: Timestamp::now(),
                        });
                        let one = Instant::now();
                        store.bookings().create(booking).expect("written");
                        took.push(one.elapsed());
                        hour += 1;
                    }
                    took
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("writer"))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut all: Vec<Duration> = latencies.into_iter().flatten().collect();
    all.sort();
    let at = |q: f64| all[((all.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e3;
    println!(
        r#"{{"store":"{}","threads":{threads},"writes":{},"writes_per_s":{:.0},"p50_ms":{:.2},"p99_ms":{:.2}}}"#,
        store.describe(),
        all.len(),
        all.len() as f64 / elapsed,
        at(0.5),
        at(0.99),
    );
    Ok(())
}
