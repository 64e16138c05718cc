-- Donors' own personal data (name, contact, pledge notes, bank references) sealed under a key per
-- donor, wrapped under the service's root key. `DELETE /donors/{id}/personal-data` deletes the
-- donor's key and what was sealed under it; the money's history (events, views) names no one.
create table donor_keys (
    donor_id    uuid primary key,
    wrapped_key bytea not null
);

-- A donor's sealed {name, contact}; donor_personal (plaintext) is what older versions kept and is
-- sealed into this table at start-up.
create table donor_sealed (
    donor_id            uuid primary key,
    sealed              bytea not null,
    -- The donor agreed that its name may be shown publicly (transparency page). Not personal data
    -- itself; without a name (erased) it shows nothing.
    public_name_consent boolean not null default false
);

-- Erasure is for good: the tombstone keeps a later write from creating a new key for the donor.
create table donor_erasures (
    donor_id  uuid primary key,
    erased_at timestamptz not null default now()
);

alter table pledge_notes alter column note drop not null;
alter table pledge_notes add column sealed bytea;

-- Each contribution's receipt: its verification code (a keyed hash of the contribution id, not
-- guessable), and the bank reference sealed under the donor's key for the printed receipt.
create table contribution_receipts (
    contribution_id   uuid primary key,
    donor_id          uuid not null,
    verification_code text not null unique,
    sealed_reference  bytea
);
create index contribution_receipts_donor on contribution_receipts (donor_id);

-- What a donor's families look like from aid's facts (GET /donors/{id}/families): plans and
-- deliveries, de-identified. Upserts keyed by plan and delivery: a redelivered event changes nothing.
create table family_aid_plans (
    plan_id      uuid primary key,
    family_id    uuid not null,
    status       text not null,      -- open | completed | incomplete | closed | ...(aid's outcome)
    start_date   date not null,
    end_date     date not null,
    days_covered integer            -- known once the plan ended; before that, the deliveries' days
);
create index family_aid_plans_family on family_aid_plans (family_id);

create table family_aid_deliveries (
    delivery_id  uuid primary key,
    plan_id      uuid not null,
    family_id    uuid not null,
    days         integer not null,
    delivered_on date not null,
    confirmed_on date
);
create index family_aid_deliveries_family on family_aid_deliveries (family_id);
