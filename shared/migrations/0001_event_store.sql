-- The event store: the service's source of truth. Append-only.
create table events (
    global_position bigserial primary key,
    event_id        uuid        not null unique,
    stream_type     text        not null,
    stream_id       uuid        not null,
    stream_version  integer     not null check (stream_version > 0),
    event_type      text        not null,
    schema_version  integer     not null,
    data            jsonb       not null,
    -- An opaque blob sealed with the stream's own key (personal data); never published.
    sealed          bytea,
    occurred_at     timestamptz not null,
    correlation_id  uuid,
    causation_id    uuid,
    -- Optimistic concurrency: a stale expected version collides here and is refused.
    constraint events_stream_version_unique unique (stream_id, stream_version)
);

-- The transactional outbox: written in the same transaction as the events, drained by the relay.
create table outbox (
    id           bigserial primary key,
    event_id     uuid        not null unique,
    subject      text        not null,
    payload      bytea       not null,
    created_at   timestamptz not null default now(),
    published_at timestamptz
);
create index outbox_unpublished on outbox (id) where published_at is null;

create function outbox_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('outbox', '');
    return null;
end $$;
create trigger outbox_inserted after insert on outbox
    for each statement execute function outbox_notify();
