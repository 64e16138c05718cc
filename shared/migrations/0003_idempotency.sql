-- Responses to POSTs that carried an Idempotency-Key, stored in the command's own transaction.
create table idempotency_keys (
    principal     text        not null,
    key           text        not null,
    method        text        not null,
    path          text        not null,
    request_hash  text        not null,
    status        integer     not null,
    response      jsonb       not null,
    created_at    timestamptz not null default now(),
    primary key (principal, key)
);
