-- Write side: kept beside the event store and never touched by a replay.

-- Personal data of individual donors: never in an event, so it never reaches the bus and can
-- be erased by deleting the row while the money's history stays.
create table donor_personal (
    donor_id uuid primary key,
    name     text not null,
    contact  text
);

-- A pledge's free-text note may name people: kept here, not in PledgeMade.
create table pledge_notes (
    pledge_id uuid primary key,
    donor_id  uuid not null,
    note      text not null
);

-- One contribution per bank reference and donor, enforced in the write transaction.
create table contribution_references (
    donor_id        uuid not null,
    reference_key   text not null,          -- trimmed, upper case
    reference       text not null,          -- as typed
    contribution_id uuid not null unique,
    primary key (donor_id, reference_key)
);

-- Which sponsorships fund a family, oldest first (draws are paid in this order).
create table family_sponsorships (
    seq            bigserial unique,
    sponsorship_id uuid primary key,
    family_id      uuid not null,
    donor_id       uuid not null
);
create index family_sponsorships_family on family_sponsorships (family_id, seq);

-- What funding knows of families, learned from registry events (it never calls the registry).
-- A row is also created, as `unknown`, when aid mentions a family funding has not heard of yet.
create table funding_families (
    family_id      uuid primary key,
    status         text not null check (status in ('unknown', 'enrolled', 'exited')),
    kelurahan_code text,
    enrolled_on    date,
    exited_on      date
);

-- Aid plans, learned from aid events: an exit releases sponsorships only when no plan is open.
create table funding_plans (
    plan_id   uuid primary key,
    family_id uuid not null,
    status    text not null check (status in ('open', 'closed')),
    closed_on date
);
create index funding_plans_open on funding_plans (family_id) where status = 'open';

-- Each aid delivery is paid once, whatever the bus does; a shortfall is kept for the record.
create table funding_deliveries (
    delivery_id  uuid primary key,
    plan_id      uuid not null,
    family_id    uuid not null,
    value_rp     bigint not null,
    drawn_rp     bigint not null,
    shortfall_rp bigint not null,
    delivered_on date not null
);

-- Read model: written inline with each append; `genting replay funding` rebuilds it from the events.

create table donors_view (
    donor_id      uuid primary key,
    donor_type    text not null,
    registered_on date not null,
    version       integer not null,
    pledged_rp    bigint not null default 0,
    received_rp   bigint not null default 0,
    allocated_rp  bigint not null default 0,
    returned_rp   bigint not null default 0
);
create index donors_view_type on donors_view (donor_type);

create table contributions_view (
    contribution_id uuid primary key,
    donor_id        uuid not null,
    amount_rp       bigint not null,
    received_on     date not null,
    method          text not null
);
create index contributions_view_donor on contributions_view (donor_id);

create table sponsorships_view (
    sponsorship_id  uuid primary key,
    donor_id        uuid not null,
    donor_type      text not null,
    family_id       uuid not null,
    kelurahan_code  text not null,
    version         integer not null,
    amount_rp       bigint not null,
    drawn_rp        bigint not null default 0,
    released_rp     bigint not null default 0,
    released_reason text,
    start_date      date not null,
    sponsored_on    date not null
);
create index sponsorships_view_donor on sponsorships_view (donor_id);
create index sponsorships_view_family on sponsorships_view (family_id);
