-- Per-family data keys, wrapped. Deleting a row erases that family's personal data for good.
create table family_keys (
    family_id   uuid primary key,
    wrapped_key bytea not null,
    created_at  timestamptz not null default now()
);

-- Uniqueness across aggregates, enforced in the write transaction: one active family per KK,
-- one active member per NIK. Keyed hashes, never the numbers themselves.
create table active_kk (
    kk_hash   bytea primary key,
    family_id uuid not null
);
create index active_kk_family on active_kk (family_id);

create table active_nik (
    nik_hash  bytea primary key,
    family_id uuid not null,
    member_id uuid not null
);
create index active_nik_family on active_nik (family_id);

-- The registry's inline read model, written in the command's transaction.
create table families_view (
    family_id       uuid primary key,
    version         integer not null,
    status          text not null,
    kelurahan_code  text not null,
    kecamatan_code  text not null,
    member_counts   jsonb not null,
    members         jsonb not null,      -- public part: member_id, role, sex, age_months
    risk_factors    text[] not null,
    registered_on   date not null,
    enrolled_on     date,
    exited_on       date,
    exit_reason     text,
    personal_erased boolean not null default false,
    personal        bytea,               -- sealed with the family key: names, NIK, KK, address, dates
    updated_at      timestamptz not null default now()
);
create index families_view_kelurahan_status on families_view (kelurahan_code, status);
create index families_view_status on families_view (status);
