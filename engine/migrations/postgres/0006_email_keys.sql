-- Droply's store on PostgreSQL, version 6: emails keyed by the Unicode form
-- (NFKC) they read back in. Addresses stored before were keyed by the
-- spelling typed then, so a login typed in the other form no longer found
-- them. The keys are computed by the engine's own rule, in Rust, right
-- after this file in the same transaction (`pg/migrate.rs`,
-- `rekey_emails`): nothing to change here.
SELECT 1;
