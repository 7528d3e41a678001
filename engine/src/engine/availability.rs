//! The engine's availability use cases: an expert edits their weekly rules
//! and exceptions, and anyone reads an expert's bookable slots under the
//! engine's slot policy. The rules live in [`crate::availability`].

use droply_models::{
    AvailabilityException, AvailabilityExceptionId, AvailabilityRule, AvailabilityRuleId, UserId,
};

use super::Engine;
use crate::Result;
use crate::availability::{
    self, ExceptionPatch, NewException, NewRule, RulePatch, Slot, SlotQuery,
};

impl Engine {
    /// `owner` adds a weekly rule; an identical active rule of theirs is
    /// returned instead, with `false` (the flag is true when this call
    /// created the rule).
    pub fn add_rule(&self, owner: UserId, new: NewRule) -> Result<(AvailabilityRule, bool)> {
        availability::add_rule(self.store(), owner, new)
    }

    /// `owner`'s weekly rules.
    pub fn list_rules(&self, owner: UserId) -> Result<Vec<AvailabilityRule>> {
        availability::list_rules(self.store(), owner)
    }

    /// `owner` changes one of their rules.
    pub fn update_rule(
        &self,
        owner: UserId,
        id: AvailabilityRuleId,
        patch: RulePatch,
    ) -> Result<AvailabilityRule> {
        availability::update_rule(self.store(), owner, id, patch)
    }

    /// `owner` deletes one of their rules.
    pub fn delete_rule(&self, owner: UserId, id: AvailabilityRuleId) -> Result<()> {
        availability::delete_rule(self.store(), owner, id)
    }

    /// `owner` adds an exception (extra or blocked time); an identical
    /// exception of theirs is returned instead, with `false` (the flag is
    /// true when this call created the exception).
    pub fn add_exception(
        &self,
        owner: UserId,
        new: NewException,
    ) -> Result<(AvailabilityException, bool)> {
        availability::add_exception(self.store(), owner, new)
    }

    /// `owner`'s exceptions.
    pub fn list_exceptions(&self, owner: UserId) -> Result<Vec<AvailabilityException>> {
        availability::list_exceptions(self.store(), owner)
    }

    /// `owner` changes one of their exceptions.
    pub fn update_exception(
        &self,
        owner: UserId,
        id: AvailabilityExceptionId,
        patch: ExceptionPatch,
    ) -> Result<AvailabilityException> {
        availability::update_exception(self.store(), owner, id, patch)
    }

    /// `owner` deletes one of their exceptions.
    pub fn delete_exception(&self, owner: UserId, id: AvailabilityExceptionId) -> Result<()> {
        availability::delete_exception(self.store(), owner, id)
    }

    /// The bookable slots of expert `id`.
    pub fn expert_slots(&self, id: UserId, query: &SlotQuery) -> Result<Vec<Slot>> {
        availability::expert_slots(self.store(), id, query, self.slot_policy())
    }
}
