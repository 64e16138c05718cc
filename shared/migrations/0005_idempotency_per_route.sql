-- Idempotency records are keyed by principal AND route (the same key on another route is another
-- request), their request hashes are keyed (HMAC), and they expire (GENTING_IDEMPOTENCY_TTL_DAYS).
-- Rows from before this migration hold unkeyed hashes: they can never match again, so they go.
delete from idempotency_keys;
alter table idempotency_keys drop constraint idempotency_keys_pkey;
alter table idempotency_keys add primary key (principal, method, path, key);
create index idempotency_keys_created_at on idempotency_keys (created_at);
