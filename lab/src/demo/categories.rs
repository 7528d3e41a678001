//! The category rows: one per industry, one per profession, and the kinds
//! of content experts sell.

use droply_models::{Category, CategoryId, CategoryType};

use super::id_counter::IdCounter;
use super::vocab::Vocab;

/// Content categories offered next to the vocabulary's industries.
const CONTENT_KINDS: &[&str] = &[
    "Video courses",
    "Templates & checklists",
    "Guides & e-books",
    "Recorded workshops",
    "Worksheets",
];

/// The generated categories and where each vocabulary entry landed.
#[derive(Debug, Default)]
pub(crate) struct Categories {
    pub rows: Vec<Category>,
    /// Category of each industry, by industry index.
    pub industry: Vec<CategoryId>,
    /// Category of each profession, by profession index.
    pub profession: Vec<CategoryId>,
    /// The content-kind categories.
    pub content: Vec<CategoryId>,
}

/// Builds every category, taking ids from `ids`.
pub(crate) fn categories(vocab: &Vocab, ids: &mut IdCounter) -> Categories {
    let mut out = Categories::default();
    let mut push = |out: &mut Categories, name: &str, kind: CategoryType| {
        let id = CategoryId::new(ids.next());
        out.rows.push(Category {
            id,
            name: name.to_owned(),
            category_type: kind,
            is_active: true,
        });
        id
    };
    for industry in &vocab.industries {
        let id = push(&mut out, &industry.name, CategoryType::Industry);
        out.industry.push(id);
    }
    for profession in &vocab.professions {
        let id = push(&mut out, &profession.title, CategoryType::Expertise);
        out.profession.push(id);
    }
    for kind in CONTENT_KINDS {
        let id = push(&mut out, kind, CategoryType::Content);
        out.content.push(id);
    }
    out
}
