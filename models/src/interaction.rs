//! `UserInteraction`: one tracked action of a user on another user's
//! profile, the raw signal for recommendations.

use serde::{Deserialize, Serialize};

use crate::{InteractionId, InteractionType, Result, Timestamp, UserId};

/// A tracked action (view, click, favourite, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInteraction {
    /// Primary key.
    pub id: InteractionId,
    /// Who acted.
    pub user_id: UserId,
    /// Whose profile was acted on.
    pub target_user_id: UserId,
    /// What happened.
    pub interaction_type: InteractionType,
    /// When.
    pub created_at: Timestamp,
}

impl UserInteraction {
    /// A new interaction of `user_id` on `target_user_id` at `at`; the store
    /// assigns the id.
    pub fn new(
        user_id: UserId,
        target_user_id: UserId,
        interaction_type: InteractionType,
        at: Timestamp,
    ) -> Self {
        UserInteraction {
            id: InteractionId::new(0),
            user_id,
            target_user_id,
            interaction_type,
            created_at: at,
        }
    }

    /// There are no cross-field rules (acting on one's own profile is
    /// recorded too; consumers may ignore it); always `Ok`.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Whether the user acted on their own profile.
    pub fn is_self(&self) -> bool {
        self.user_id == self.target_user_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let i = UserInteraction {
            id: InteractionId::new(1),
            user_id: UserId::new(1),
            target_user_id: UserId::new(2),
            interaction_type: InteractionType::SearchImpression,
            created_at: Timestamp::from_micros(0).expect("epoch"),
        };
        assert_eq!(i.validate(), Ok(()));
        assert!(!i.is_self());
        let json = serde_json::to_string(&i).expect("json");
        assert!(json.contains("\"interaction_type\":\"search_impression\""));
    }
}
