//! `Category`: a named bucket for expertise, industries or content.

use serde::{Deserialize, Serialize};

use crate::text::{self, NAME_MAX};
use crate::{CategoryId, CategoryType, Result};

/// A category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// Primary key.
    pub id: CategoryId,
    /// Display name, 1–100 characters.
    pub name: String,
    /// What it classifies.
    pub category_type: CategoryType,
    /// Whether it can be chosen.
    pub is_active: bool,
}

impl Category {
    /// Checks the name is 1–100 characters.
    pub fn validate(&self) -> Result<()> {
        text::check_required("name", &self.name, NAME_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_required() {
        let mut c = Category {
            id: CategoryId::new(1),
            name: "Software".into(),
            category_type: CategoryType::Expertise,
            is_active: true,
        };
        assert_eq!(c.validate(), Ok(()));
        c.name = String::new();
        assert!(c.validate().is_err());
    }
}
