//! Live drop-ins in search. They are few at any moment and last an hour or
//! so, so they are not kept in the tantivy and HNSW indexes: each search
//! looks through the live sessions (paging through an index of the open
//! ones), scores their topic (counted twice) and description against the
//! query's words with BM25 over that set (with no words, every live session
//! is a hit alike), and compares their meaning with the query vector by
//! cosine. Each session's vector is embedded once by the same model as
//! everything else and kept while the session is open (a session's text
//! never changes); vectors of sessions no longer open are dropped at the
//! next search. Drop-ins have no filters or facets of their own, and one
//! whose host is no longer an expert is never a result.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use droply_index::TextEmbedder;
use droply_index::text::terms;
use droply_models::{DropinSession, DropinSessionId};

use super::fusion::FusedHit;
use super::query::MatchQuery;
use super::ranked_hit::RankedDropin;
use super::ranker::{Matcher, display_score, pools};
use super::signals::Contribution;
use crate::Result;
use crate::dropins::{DropinState, state_of};
use crate::store::{MAX_PAGE_SIZE, PageRequest};

/// The most live sessions one search looks through.
const MAX_SCANNED: usize = 1_000;
/// BM25's term-frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Drop-in candidates by words and by meaning, and how many matched.
pub(super) type RetrievedDropins = (
    Vec<(DropinSessionId, f32)>,
    Vec<(DropinSessionId, f32)>,
    u64,
);

/// The vectors of open sessions' texts, embedded once each.
#[derive(Debug, Default)]
pub(crate) struct DropinVectors {
    vectors: Mutex<HashMap<DropinSessionId, Arc<[f32]>>>,
}

impl DropinVectors {
    /// The vector of each of `sessions`, in their order and keyed by session: kept
    /// ones reused, the others embedded in one batch; vectors of sessions not listed
    /// are forgotten. The kept vectors are copied out under the same lock that finds
    /// which are missing, so a concurrent search forgetting them meanwhile (its own
    /// sessions are another set) takes none from this one. A session the embedder
    /// returned no vector for is left out, never another session's vector given.
    fn of(
        &self,
        embedder: &dyn TextEmbedder,
        sessions: &[DropinSession],
    ) -> Result<Vec<(DropinSessionId, Arc<[f32]>)>> {
        let mut found: HashMap<DropinSessionId, Arc<[f32]>> =
            HashMap::with_capacity(sessions.len());
        let mut missing: Vec<(DropinSessionId, String)> = Vec::new();
        {
            let kept = self.vectors.lock().unwrap_or_else(PoisonError::into_inner);
            for session in sessions {
                match kept.get(&session.id) {
                    Some(vector) => {
                        found.insert(session.id, Arc::clone(vector));
                    }
                    None => missing.push((session.id, text_of(session))),
                }
            }
        }
        let texts: Vec<&str> = missing.iter().map(|(_, text)| text.as_str()).collect();
        let embedded = if texts.is_empty() {
            Vec::new()
        } else {
            embedder.embed_texts(&texts)?
        };
        let mut kept = self.vectors.lock().unwrap_or_else(PoisonError::into_inner);
        // The embedder answers in the order it was asked.
        for ((id, _), vector) in missing.into_iter().zip(embedded) {
            let vector: Arc<[f32]> = vector.into();
            kept.insert(id, Arc::clone(&vector));
            found.insert(id, vector);
        }
        let open: HashSet<DropinSessionId> = sessions.iter().map(|s| s.id).collect();
        kept.retain(|id, _| open.contains(id));
        drop(kept);
        Ok(sessions
            .iter()
            .filter_map(|s| found.get(&s.id).map(|vector| (s.id, Arc::clone(vector))))
            .collect())
    }
}

/// What a session is embedded and matched by.
fn text_of(session: &DropinSession) -> String {
    format!("{}. {}", session.topic, session.description)
}

impl Matcher {
    /// Up to [`MAX_SCANNED`] live sessions, oldest first, read page by page
    /// through the open ones: sessions scheduled ahead are open too, and a
    /// first page of them once hid every session opened after.
    fn live_dropins(&self) -> Result<Vec<DropinSession>> {
        let now = self.now();
        let mut live = Vec::new();
        let mut page = PageRequest::first(MAX_PAGE_SIZE);
        loop {
            let got = self.store().dropin_sessions().open(&page)?;
            live.extend(
                got.items
                    .into_iter()
                    .filter(|s| state_of(s, now) == DropinState::Live),
            );
            match got.next {
                Some(cursor) if live.len() < MAX_SCANNED => page = page.after(Some(cursor)),
                _ => break,
            }
        }
        live.truncate(MAX_SCANNED);
        Ok(live)
    }

    /// Live drop-ins by words (BM25 over the live set) and by meaning (the
    /// `vector_pool` closest by cosine, when meaning counts), in pools for the block of
    /// results ending at `block_end`, and how many matched.
    pub(super) fn retrieve_dropins(
        &self,
        query: &MatchQuery,
        ratio: f32,
        vector: Option<&[f32]>,
        block_end: usize,
    ) -> Result<RetrievedDropins> {
        let live = self.live_dropins()?;
        let (text_pool, vector_pool) = pools(block_end);
        let text_hits = if ratio < 1.0 && terms(&query.text).is_empty() {
            // No words: every live session is a hit alike, the soonest
            // started first (as experts and content list what the filters
            // allow when no words are given).
            let mut hits: Vec<(&DropinSession, f32)> = live.iter().map(|s| (s, 1.0)).collect();
            hits.sort_by_key(|(s, _)| (s.started_at, s.id));
            hits.truncate(text_pool);
            hits.into_iter().map(|(s, score)| (s.id, score)).collect()
        } else if ratio < 1.0 {
            let scores = bm25(&live, &query.text);
            let mut hits: Vec<(DropinSessionId, f32)> = live
                .iter()
                .zip(scores)
                .filter(|(_, score)| *score > 0.0)
                .map(|(s, score)| (s.id, score))
                .collect();
            hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            hits.truncate(text_pool);
            hits
        } else {
            Vec::new()
        };
        let vector_hits = match vector {
            Some(query_vector) => {
                let vectors = self
                    .dropin_vectors
                    .of(self.index().embedder().as_ref(), &live)?;
                let mut hits: Vec<(DropinSessionId, f32)> = vectors
                    .iter()
                    .map(|(id, v)| (*id, cosine(query_vector, v)))
                    .collect();
                hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                hits.truncate(vector_pool);
                hits
            }
            None => Vec::new(),
        };
        let matched: HashSet<DropinSessionId> = text_hits
            .iter()
            .chain(&vector_hits)
            .map(|(id, _)| *id)
            .collect();
        Ok((text_hits, vector_hits, matched.len() as u64))
    }

    /// Scores the first `window` fused drop-in candidates still live and
    /// hosted by an expert, best first.
    pub(super) fn rank_dropins(
        &self,
        fused: Vec<FusedHit<DropinSessionId>>,
        window: usize,
        query_terms: &HashSet<String>,
    ) -> Result<Vec<RankedDropin>> {
        let store = self.store();
        let now = self.now();
        let mut ranked = Vec::with_capacity(window.min(fused.len()));
        for hit in fused {
            if ranked.len() >= window {
                break;
            }
            let Some(session) = store.dropin_sessions().find(hit.key)? else {
                continue;
            };
            if state_of(&session, now) != DropinState::Live {
                continue; // ended since it was listed
            }
            // A host who is no longer an expert hosts nothing to be found
            // (their drop-ins end with the change; one left open is skipped).
            let Some(host) = store
                .users()
                .find(session.host_id)?
                .filter(droply_models::User::is_expert)
            else {
                continue;
            };
            let in_topic = terms(&session.topic)
                .iter()
                .any(|(t, _)| query_terms.contains(t));
            let contributions: Vec<Contribution> = super::merged_search::relevance(
                &hit,
                if in_topic { "topic" } else { "description" },
            );
            ranked.push(RankedDropin {
                session,
                host,
                score: hit.score,
                match_score: display_score(hit.score),
                fused: hit,
                contributions,
            });
        }
        Ok(ranked)
    }
}

/// BM25 of `query` against each session's topic (twice) and description,
/// with document frequencies over `sessions`.
fn bm25(sessions: &[DropinSession], query: &str) -> Vec<f32> {
    let query_terms: HashSet<String> = terms(query).into_iter().map(|(t, _)| t).collect();
    if query_terms.is_empty() || sessions.is_empty() {
        return vec![0.0; sessions.len()];
    }
    let docs: Vec<Vec<String>> = sessions
        .iter()
        .map(|s| {
            let topic: Vec<String> = terms(&s.topic).into_iter().map(|(t, _)| t).collect();
            let mut words = topic.clone();
            words.extend(topic);
            words.extend(terms(&s.description).into_iter().map(|(t, _)| t));
            words
        })
        .collect();
    let n = docs.len() as f32;
    let average = docs.iter().map(Vec::len).sum::<usize>() as f32 / n;
    let frequency: HashMap<&str, f32> = query_terms
        .iter()
        .map(|term| {
            let with = docs.iter().filter(|d| d.iter().any(|w| w == term)).count() as f32;
            (term.as_str(), with)
        })
        .collect();
    docs.iter()
        .map(|doc| {
            let length = doc.len() as f32;
            query_terms
                .iter()
                .map(|term| {
                    let tf = doc.iter().filter(|w| *w == term).count() as f32;
                    if tf == 0.0 {
                        return 0.0;
                    }
                    let df = frequency.get(term.as_str()).copied().unwrap_or(0.0);
                    let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length / average.max(1.0)))
                })
                .sum()
        })
        .collect()
}

/// The cosine of two vectors (0 for a zero vector).
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use droply_models::{SessionCode, Timestamp, UserId};

    use super::*;

    fn session(id: u64, topic: &str, description: &str) -> DropinSession {
        DropinSession {
            id: DropinSessionId::new(id),
            host_id: UserId::new(1),
            topic: topic.into(),
            description: description.into(),
            max_participants: 10,
            current_participants: 0,
            is_active: true,
            is_anonymous: false,
            session_code: SessionCode::parse("ABCDEFGH").expect("code"),
            created_at: Timestamp::now(),
            started_at: None,
            ended_at: None,
            duration_minutes: 30,
        }
    }

    #[test]
    fn words_in_the_topic_count_more_and_rare_words_most() {
        let sessions = [
            session(1, "Kubernetes office hours", "Ask about clusters"),
            session(2, "Tax questions", "Kubernetes mentioned once in passing"),
            session(3, "Tax questions", "VAT and income tax"),
        ];
        let scores = bm25(&sessions, "kubernetes");
        assert!(scores[0] > scores[1], "{scores:?}");
        assert_eq!(scores[2], 0.0);
        assert_eq!(bm25(&sessions, ""), [0.0, 0.0, 0.0]);
    }

    /// A stand-in embedder: each text's vector is its length and 1; it can forget
    /// every kept vector while it embeds, as a concurrent search over other
    /// sessions does.
    struct Racing<'a> {
        forget: Option<&'a DropinVectors>,
    }

    impl TextEmbedder for Racing<'_> {
        fn fingerprint(&self) -> &str {
            "racing"
        }

        fn dimension(&self) -> usize {
            2
        }

        fn embed_texts(&self, texts: &[&str]) -> droply_index::Result<Vec<Vec<f32>>> {
            if let Some(vectors) = self.forget {
                vectors
                    .vectors
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clear();
            }
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }
    }

    /// Regression: a vector kept when the missing ones were listed but forgotten by
    /// a concurrent search before they were stored was left out, and the caller,
    /// pairing sessions and vectors by position, gave later sessions their
    /// neighbours' vectors.
    #[test]
    fn every_session_gets_its_own_vector_when_another_search_forgets_them() {
        let vectors = DropinVectors::default();
        let sessions = [
            session(1, "Kubernetes", "Clusters"),
            session(2, "Tax questions answered", "VAT"),
            session(3, "Yoga", "Breathing for calm mornings"),
        ];
        let own = |s: &DropinSession| vec![text_of(s).len() as f32, 1.0];
        let first = vectors
            .of(&Racing { forget: None }, &sessions[..1])
            .expect("first");
        assert_eq!(first.len(), 1);
        let racing = Racing {
            forget: Some(&vectors),
        };
        let all = vectors.of(&racing, &sessions).expect("all");
        let got: Vec<(DropinSessionId, Vec<f32>)> = all
            .iter()
            .map(|(id, vector)| (*id, vector.to_vec()))
            .collect();
        let want: Vec<(DropinSessionId, Vec<f32>)> =
            sessions.iter().map(|s| (s.id, own(s))).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn cosine_of_vectors() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
