-- The process manager's knowledge of families, from registry events (consumer aid-registry).
-- Both reactions lock a family's row here before deciding, so whichever of an enrolment and a
-- sponsorship commits second sees the other and the plan opens exactly once.
create table aid_families (
    family_id      uuid primary key,
    kelurahan_code text,
    enrolled_on    date,
    exited_on      date,
    exit_reason    text,
    member_counts  jsonb
);
create index aid_families_kelurahan on aid_families (kelurahan_code)
    where enrolled_on is not null and exited_on is null;

-- Sponsorships, from funding events (consumer aid-funding): what is left of each, from when.
create table aid_sponsorships (
    sponsorship_id uuid primary key,
    family_id      uuid   not null,
    amount_rp      bigint not null check (amount_rp > 0),
    released_rp    bigint not null default 0 check (released_rp >= 0),
    start_date     date   not null,
    sponsored_on   date   not null
);
create index aid_sponsorships_family on aid_sponsorships (family_id);

-- The inline read model, written in the transaction that appends to the plan or session stream.
create table plans_view (
    plan_id          uuid primary key,
    family_id        uuid    not null unique,
    kelurahan_code   text    not null,
    status           text    not null,
    start_date       date    not null,
    end_date         date    not null,
    days             integer not null,
    daily_minimum_rp bigint  not null,
    budget_rp        bigint  not null,
    delivered_rp     bigint  not null,
    days_covered     integer not null,
    gaps             jsonb   not null,  -- [{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}]
    deliveries       integer not null,
    confirmed        integer not null,
    interventions    integer not null,
    opened_on        date    not null,
    closed_on        date,
    outcome          text,
    unspent_rp       bigint,
    version          integer not null
);
create index plans_view_kelurahan_status on plans_view (kelurahan_code, status);
create index plans_view_active_end on plans_view (end_date) where status = 'active';

create table deliveries_view (
    delivery_id    uuid primary key,
    plan_id        uuid    not null,
    family_id      uuid    not null,
    kelurahan_code text    not null,
    period_from    date    not null,
    period_to      date    not null,
    days           integer not null,
    value_rp       bigint  not null,
    items          jsonb   not null,
    delivered_on   date    not null,
    recorded_by    text,
    confirmed_on   date,
    confirmed_by   text,
    photo_ref      text
);
create index deliveries_view_plan on deliveries_view (plan_id, period_from);

create table interventions_view (
    intervention_id uuid primary key,
    plan_id         uuid   not null,
    family_id       uuid   not null,
    kelurahan_code  text   not null,
    kind            text   not null,
    description     text,              -- private: never published
    done_on         date   not null,
    value_rp        bigint not null,
    recorded_by     text
);
create index interventions_view_plan on interventions_view (plan_id, done_on);

create table education_sessions_view (
    session_id     uuid primary key,
    topic          text    not null,
    held_on        date    not null,
    kelurahan_code text    not null,
    family_ids     uuid[]  not null,
    families       integer not null,
    facilitator    text,               -- private: never published
    recorded_by    text
);
create index education_sessions_view_kelurahan on education_sessions_view (kelurahan_code, held_on);
