//! The generator's ground truth for ranking evaluation, kept apart from
//! the imported rows: every client's interest profile with the experts it
//! would favourite next (held out, never written as rows), and a set of
//! natural-language search queries with graded relevance per expert, and
//! content queries with graded relevance per content item (and the
//! experts who could help, for mixed-kind search).

use std::io::Write;

use droply_models::{ContentId, UserId};
use serde::{Deserialize, Serialize};

/// The truth behind one generated marketplace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoTruth {
    /// The seed the marketplace was generated with.
    pub seed: u64,
    /// One entry per client, in id order.
    pub clients: Vec<ClientTruth>,
    /// The evaluation queries.
    pub queries: Vec<EvalQuery>,
    /// The content evaluation queries (absent from truths written before
    /// the demo had content).
    #[serde(default)]
    pub content_queries: Vec<ContentEvalQuery>,
}

/// A search query for content, with its judgements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentEvalQuery {
    /// Its number.
    pub id: u32,
    /// What the searcher types.
    pub text: String,
    /// The kind of content asked for (`document`, `template`, ...).
    pub content_type: String,
    /// The skill it is about.
    pub skill: String,
    /// Graded content.
    pub relevance: ContentRelevance,
    /// Experts who list the skill: relevant (grade 1) in a mixed-kind search.
    pub experts: Vec<UserId>,
}

/// Content judged for one query, by grade.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentRelevance {
    /// The skill and the kind asked for.
    #[serde(rename = "3")]
    pub exact: Vec<ContentId>,
    /// The skill, in another kind.
    #[serde(rename = "2")]
    pub partial: Vec<ContentId>,
    /// By a creator of the same profession.
    #[serde(rename = "1")]
    pub related: Vec<ContentId>,
}

/// What a client is interested in and whom it would favourite next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientTruth {
    /// The client.
    pub user_id: UserId,
    /// The industry the client looks in.
    pub industry: String,
    /// The professions the client looks for.
    pub professions: Vec<String>,
    /// The skills the client needs.
    pub skills: Vec<String>,
    /// Experts drawn from the same interest process as the client's
    /// activity but not favourited in the rows: what a recommender should
    /// surface. Never the client's existing favourites.
    pub held_out: Vec<UserId>,
}

/// A search query with the facets it was built from and its judgements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalQuery {
    /// 1-based query number.
    pub id: u32,
    /// The text a user would type.
    pub text: String,
    /// Which facets the query names, e.g. `profession_skill_city`.
    pub kind: String,
    /// The industry the query is about (for grade 1).
    pub industry: String,
    /// The profession it names, if any.
    pub profession: Option<String>,
    /// The skill it names, if any.
    pub skill: Option<String>,
    /// The specialty tag it names, if any.
    pub tag: Option<String>,
    /// The city it names, if any.
    pub city: Option<String>,
    /// Graded relevance of every expert that is relevant at all.
    pub relevance: Relevance,
}

/// Experts by relevance grade, each list in ascending id order. Grade 3:
/// every named facet matches (profession, skill, tag and city); grade 2:
/// the named profession, skill and tag match but the named city does not;
/// grade 1: otherwise the same industry. Everyone else is grade 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Relevance {
    /// Grade 3.
    #[serde(rename = "3")]
    pub exact: Vec<UserId>,
    /// Grade 2.
    #[serde(rename = "2")]
    pub partial: Vec<UserId>,
    /// Grade 1.
    #[serde(rename = "1")]
    pub related: Vec<UserId>,
}

impl Relevance {
    /// The grade (0–3) of `expert` for this query.
    pub fn grade(&self, expert: UserId) -> u8 {
        if self.exact.binary_search(&expert).is_ok() {
            3
        } else if self.partial.binary_search(&expert).is_ok() {
            2
        } else if self.related.binary_search(&expert).is_ok() {
            1
        } else {
            0
        }
    }
}

impl DemoTruth {
    /// Writes the truth as one compact JSON document.
    pub fn write_json(&self, mut out: impl Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut out, self).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}
