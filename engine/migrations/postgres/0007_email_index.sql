-- Droply's store on PostgreSQL, version 7: the database's own check that
-- one address has one account (`user_email_key`) folds ASCII case only
-- (`lower` under the "C" collation). Under the database's locale, `lower`
-- folded more than the engine's key does (a dotted capital I to a plain i,
-- a final sigma to a medial one), so PostgreSQL refused accounts that the
-- engine, and sled, hold as distinct. The engine keys every address itself
-- (`uniq_email`); this index stays as the net under rows written by SQL
-- alone in another ASCII case. It refuses nothing the old one allowed.
DROP INDEX user_email_key;
CREATE UNIQUE INDEX user_email_key ON "user" (lower(email COLLATE "C"));
