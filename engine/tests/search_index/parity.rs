//! Parity: after random profile writes, deletes, category renames, content writes
//! (created in any status, published, archived, counted, retitled, deleted), clean
//! restarts and SIGKILLs of a process that was writing and indexing, the text and vector
//! indexes hold exactly the store's current experts and published content, each at its
//! current version.
//!
//! The process killed is this same test binary, started with
//! `DROPLY_SEARCH_CRASH_CHILD` set and asked to run only the SIGKILL test, which then
//! becomes the writer ([`crash_child`]) and never returns; there is no separate child
//! test that would pass without doing anything.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use droply_engine::Store;
use droply_models::{
    Category, CategoryId, CategoryType, Content, ContentId, ContentStatus, Rating, User, UserId,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::fixtures::content;
use crate::support::{assert_parity, expert, open_hashed};

const CHILD_ENV: &str = "DROPLY_SEARCH_CRASH_CHILD";
/// The test the child process runs: the SIGKILL test itself, in child mode.
const CHILD_TEST: &str = "parity::parity_after_sigkill_mid_indexing";
const WORDS: &[&str] = &[
    "rust",
    "kubernetes",
    "tax",
    "law",
    "yoga",
    "design",
    "marketing",
    "payments",
    "cloud",
    "nutrition",
    "photography",
    "finance",
    "startup",
    "sales",
    "python",
    "security",
    "music",
    "coaching",
    "data",
    "mobile",
];

fn words(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

fn ensure_categories(store: &Store) -> Vec<CategoryId> {
    let existing: Vec<CategoryId> = store
        .iter::<Category>()
        .map(|c| c.expect("category").id)
        .collect();
    if !existing.is_empty() {
        return existing;
    }
    (0..3)
        .map(|i| {
            store
                .categories()
                .create(Category {
                    id: CategoryId::new(0),
                    name: format!("Category {i}"),
                    category_type: CategoryType::Expertise,
                    is_active: true,
                })
                .expect("category")
                .id
        })
        .collect()
}

fn random_status(rng: &mut StdRng) -> ContentStatus {
    ContentStatus::ALL[rng.random_range(0..ContentStatus::ALL.len())]
}

/// One random content write by one of `creators`: create (in any status), change the
/// status, count views and purchases, retitle, or delete.
fn random_content_write(store: &Store, rng: &mut StdRng, creators: &[UserId]) {
    let items: Vec<ContentId> = store
        .iter::<Content>()
        .map(|c| c.expect("content").id)
        .collect();
    let roll = rng.random_range(0..100);
    if items.is_empty() || roll < 30 {
        let creator = creators[rng.random_range(0..creators.len())];
        let mut row = content(creator, "2026-10-01T10:00:00Z");
        row.title = words(rng, 3);
        row.description = words(rng, 8);
        row.status = random_status(rng);
        store.contents().create(row).expect("create content");
        return;
    }
    let id = items[rng.random_range(0..items.len())];
    let status = random_status(rng);
    let title = words(rng, 3);
    match roll {
        30..=54 => store.contents().modify(id, move |c| {
            c.status = status;
            Ok(())
        }),
        55..=74 => store.contents().modify(id, |c| {
            c.views += 1;
            c.purchases += 1;
            Ok(())
        }),
        75..=89 => store.contents().modify(id, move |c| {
            c.title = title;
            Ok(())
        }),
        _ => store.contents().delete(id),
    }
    .map(|_| ())
    .expect("content write");
}

/// One random write: create, update, demote, delete, rename a category, or (three
/// times in ten) a content write.
fn random_write(store: &Store, rng: &mut StdRng, prefix: &str, n: &mut u64) {
    let ids: Vec<UserId> = store.iter::<User>().map(|u| u.expect("user").id).collect();
    if !ids.is_empty() && rng.random_bool(0.3) {
        random_content_write(store, rng, &ids);
        return;
    }
    let categories = ensure_categories(store);
    let roll = rng.random_range(0..100);
    if ids.is_empty() || roll < 35 {
        *n += 1;
        let mut user = expert(&format!("{prefix}x{n}"), &words(rng, 2), &words(rng, 1));
        if rng.random_bool(0.2) {
            user.profession = String::new();
        }
        user.bio = words(rng, 8);
        user.content_categories = vec![categories[rng.random_range(0..categories.len())]];
        store.users().create(user).expect("create");
        return;
    }
    let id = ids[rng.random_range(0..ids.len())];
    match roll {
        35..=59 => {
            let bio = words(rng, 6);
            store.users().modify(id, |u| {
                u.bio = bio;
                if u.profession.is_empty() {
                    u.profession = "Consultant".to_owned();
                }
                Ok(())
            })
        }
        60..=69 => {
            // A change that does not touch the embedded text: no re-embedding, new text version.
            let count = rng.random_range(1..10u32);
            let sum = rng.random_range(u64::from(count)..=u64::from(count) * 5);
            store.users().modify(id, move |u| {
                u.rating = Rating::from_parts(sum, count)?;
                u.is_available = !u.is_available;
                Ok(())
            })
        }
        70..=79 => store.users().modify(id, |u| {
            u.profession = String::new();
            Ok(())
        }),
        80..=94 => store.users().delete(id),
        _ => {
            let category = categories[rng.random_range(0..categories.len())];
            let name = format!("Renamed {}", words(rng, 1));
            store
                .categories()
                .modify(category, |c| {
                    c.name = name;
                    Ok(())
                })
                .map(|_| ())
                .and_then(|()| store.users().get(id))
        }
    }
    .expect("write");
}

#[test]
fn parity_after_random_writes_deletes_and_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("store");
    let mut rng = StdRng::seed_from_u64(0x5EA7C4);
    let mut n = 0;
    for round in 0..5 {
        let index = open_hashed(dir.path(), &store);
        for step in 0..120 {
            random_write(&store, &mut rng, "par", &mut n);
            if step % 40 == 39 {
                assert_parity(&index, &store, &format!("round {round} step {step}"));
            }
        }
        // Restart while the indexer may still be behind.
        drop(index);
    }
    let index = open_hashed(dir.path(), &store);
    assert_parity(&index, &store, "after the last restart");
    let status = index.status();
    assert!(status.text_documents > 50, "{status:?}");
}

/// The child's body: writes random profiles into the store under `dir` while its search
/// index follows, printing `ACK` after each write, until killed.
fn crash_child(dir: &std::path::Path) -> ! {
    let store = Store::open(dir.join("store")).expect("child store");
    let _index = open_hashed(dir, &store);
    let mut rng = StdRng::seed_from_u64(u64::from(std::process::id()));
    let prefix = format!("c{}", std::process::id());
    let mut n = 0;
    loop {
        random_write(&store, &mut rng, &prefix, &mut n);
        println!("ACK");
    }
}

#[test]
fn parity_after_sigkill_mid_indexing() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        crash_child(std::path::Path::new(&dir));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut rng = StdRng::seed_from_u64(0xC4A5);
    for round in 0..8 {
        let mut child = Command::new(&exe)
            .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let wanted = rng.random_range(5..80usize);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut acked = 0;
        let mut lines = BufReader::new(stdout).lines();
        while acked < wanted && Instant::now() < deadline {
            match lines.next() {
                Some(Ok(line)) if line == "ACK" => acked += 1,
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        if rng.random_bool(0.5) {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..50)));
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        assert!(acked > 0, "round {round}: the child wrote nothing");

        let store = Store::open(dir.path().join("store")).expect("reopen store");
        let index = open_hashed(dir.path(), &store);
        assert_parity(&index, &store, &format!("after kill {round}"));
        drop(index);
        drop(store);
    }
}
