//! The crash test: a child process writes rows in a loop and reports each id
//! once its write returned; it is killed with SIGKILL at random moments. After
//! every kill the store reopens with every acknowledged row present and every
//! index tree agreeing with the rows.
//!
//! The child is this same test binary, started with `DROPLY_CRASH_CHILD` set
//! and asked to run only the test itself, which then becomes the writer
//! ([`child_writer`]) and never returns; there is no separate child test that
//! would pass without doing anything.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use droply_engine::Store;
use droply_models::{InteractionType, UserId};
use rand::{Rng, SeedableRng};

use crate::fixtures::*;

const CHILD_ENV: &str = "DROPLY_CRASH_CHILD";
/// The test the child process runs: the parent test itself, in child mode.
const CHILD_TEST: &str = "crash::acknowledged_writes_survive_sigkill";
const KILLS: usize = 50;

/// The child's body: writes rows into the store at `path`, printing `ACK <id>`
/// after each write returned, until it is killed.
fn child_writer(path: &str) -> ! {
    let store = Store::open(path).expect("child opens the store");
    let expert = match store
        .users()
        .by_username(&droply_models::Username::parse("expert").expect("name"))
        .expect("lookup")
    {
        Some(expert) => expert,
        None => store.users().create(full_user("expert")).expect("expert"),
    };
    let start = std::process::id() as u64 * 1_000_000;
    let mut n = 0;
    loop {
        let name = format!("w{}", start + n);
        let user = store
            .write(|txn| {
                let mut user = full_user(&name);
                user.referral_code = droply_models::ReferralCode::parse(&format!("C{}", start + n))
                    .map_err(droply_engine::Error::from)?;
                let user = txn.create(user)?;
                txn.create(favorite(user.id, expert.id, "2026-10-01T00:00:00Z"))?;
                txn.create(interaction(
                    user.id,
                    expert.id,
                    InteractionType::View,
                    "2026-10-01T00:00:00Z",
                ))?;
                let day = 1 + (n % 27);
                txn.create(full_booking(
                    user.id,
                    expert.id,
                    &format!("2026-11-{day:02}T10:00:00Z"),
                ))?;
                Ok(user)
            })
            .expect("child write");
        println!("ACK {}", user.id);
        n += 1;
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        child_writer(&path);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let exe = std::env::current_exe().expect("test binary");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xD509);
    let mut acknowledged: Vec<UserId> = Vec::new();
    for round in 0..KILLS {
        let mut child = Command::new(&exe)
            .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("piped stdout");
        let wanted = rng.random_range(1..40usize);
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut lines = BufReader::new(stdout).lines();
        let mut acked_now = 0;
        while acked_now < wanted && Instant::now() < deadline {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(id) = line.strip_prefix("ACK ") {
                        acknowledged.push(UserId::new(id.trim().parse().expect("id")));
                        acked_now += 1;
                    }
                }
                _ => break,
            }
        }
        // Sometimes kill at once, sometimes mid-write after a short pause.
        if rng.random_bool(0.5) {
            std::thread::sleep(Duration::from_micros(rng.random_range(0..3000)));
        }
        child.kill().expect("SIGKILL");
        // Ids the child printed after we stopped reading were acknowledged too.
        for line in lines.map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("ACK ") {
                acknowledged.push(UserId::new(id.trim().parse().expect("id")));
            }
        }
        child.wait().expect("reap");
        assert!(
            acked_now > 0,
            "round {round}: the child acknowledged nothing"
        );

        let store = Store::open(&path).expect("reopen after kill");
        for id in &acknowledged {
            assert!(
                store.users().find(*id).expect("read").is_some(),
                "round {round}: acknowledged user {id} lost"
            );
        }
        let report = store.verify_integrity().expect("check");
        assert!(
            report.is_consistent(),
            "round {round}: {:?}",
            report.problems
        );
        let feed = store.changes_since(0, usize::MAX).expect("feed");
        assert!(
            feed.windows(2).all(|w| w[1].seq == w[0].seq + 1),
            "round {round}: gap in the change feed"
        );
        assert_eq!(feed.last().map(|c| c.seq).unwrap_or(0), store.last_seq());
    }
    assert!(acknowledged.len() >= KILLS);
}
