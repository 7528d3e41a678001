//! Categories as records; few, listed whole.

use droply_models::{Category, CategoryId};

use super::repo::Deletable;
use crate::store::{EntityKind, Record};

impl Record for Category {
    type Id = CategoryId;
    const KIND: EntityKind = EntityKind::Category;
    record_basics!(CategoryId);
}

impl Deletable for Category {}
