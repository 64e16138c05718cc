-- The relay is woken by `pg_notify` sent right after each commit (shared/outbox.py wake_relay),
-- not by a trigger inside the writing transaction: a notifying transaction holds a database-wide
-- lock until its commit is flushed to disk, which serialised every command behind one fsync.
drop trigger outbox_inserted on outbox;
drop function outbox_notify();
