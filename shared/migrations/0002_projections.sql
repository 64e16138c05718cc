-- Version gate: the last version of each upstream stream a projection has applied.
create table projection_versions (
    projection text    not null,
    stream_id  uuid    not null,
    version    integer not null,
    primary key (projection, stream_id)
);

-- Where each projection's durable consumer has got to (informational with replicas; a resume hint).
create table projection_checkpoints (
    projection  text        primary key,
    stream_seq  bigint      not null,
    updated_at  timestamptz not null default now()
);
