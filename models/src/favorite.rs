//! `Favorite`: a user bookmarking another user's profile.

use serde::{Deserialize, Serialize};

use crate::{Error, FavoriteId, Result, Timestamp, UserId};

/// One user's favourite of another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Favorite {
    /// Primary key.
    pub id: FavoriteId,
    /// Who favourited.
    pub user_id: UserId,
    /// Who was favourited.
    pub favorited_user_id: UserId,
    /// When.
    pub created_at: Timestamp,
}

impl Favorite {
    /// Checks that nobody favourites themselves.
    pub fn validate(&self) -> Result<()> {
        if self.user_id == self.favorited_user_id {
            return Err(Error::invalid(
                "favorited_user_id",
                "a user cannot favorite themselves",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_self_favorite() {
        let mut f = Favorite {
            id: FavoriteId::new(1),
            user_id: UserId::new(1),
            favorited_user_id: UserId::new(2),
            created_at: Timestamp::now(),
        };
        assert_eq!(f.validate(), Ok(()));
        f.favorited_user_id = f.user_id;
        assert!(f.validate().is_err());
    }
}
