-- Reporting's read models, built only from upstream events. One row per family, donor, plan,
-- delivery, session, intervention or measurement: the reports are GROUP BY queries over them.
-- Each table is written by one consumer only, so the three consumers never wait on each other's rows.

-- reporting-registry
create table families_view (
    family_id       uuid primary key,
    kelurahan_code  text,
    registered_on   date,
    enrolled_on     date,
    rejected_on     date,
    exited_on       date,
    exit_reason     text
);

-- One row per GrowthMeasured (keyed by the family stream's version): first and latest per child
-- are picked at query time.
create table growth_view (
    family_id       uuid    not null,
    stream_version  integer not null,
    member_id       uuid,
    kelurahan_code  text,
    measured_on     date,
    age_months      integer,
    haz             double precision,
    stunted         boolean,
    primary key (family_id, stream_version)
);

-- reporting-funding
create table family_funding_view (
    family_id           uuid primary key,
    kelurahan_code      text,
    first_sponsored_on  date,
    sponsorships        integer not null default 0,
    sponsored_rp        bigint  not null default 0,
    drawn_rp            bigint  not null default 0,
    released_rp         bigint  not null default 0
);

create table donors_view (
    donor_id       uuid primary key,
    donor_type     text,
    registered_on  date,
    pledges        integer not null default 0,
    pledged_rp     bigint  not null default 0,
    contributions  integer not null default 0,
    received_rp    bigint  not null default 0,
    sponsorships   integer not null default 0,
    sponsored_rp   bigint  not null default 0,
    drawn_rp       bigint  not null default 0,
    released_rp    bigint  not null default 0
);

-- reporting-aid
create table plans_view (
    plan_id         uuid primary key,
    family_id       uuid,
    kelurahan_code  text,
    opened_on       date,
    start_date      date,
    end_date        date,
    days            integer,
    completed_on    date,
    closed_on       date,
    outcome         text,
    budget_rp       bigint,
    last_gap_to     date,
    deliveries      integer not null default 0,
    delivered_rp    bigint  not null default 0,
    days_covered    integer not null default 0,
    gaps            integer not null default 0,
    gap_days        integer not null default 0
);
create index plans_view_family on plans_view (family_id);

create table deliveries_view (
    delivery_id     uuid primary key,
    plan_id         uuid,
    kelurahan_code  text,
    delivered_on    date,
    period_from     date,
    period_to       date,
    days            integer,
    value_rp        bigint,
    confirmed_on    date
);

create table education_sessions_view (
    session_id      uuid primary key,
    topic           text,
    held_on         date,
    kelurahan_code  text,
    families        integer
);

create table interventions_view (
    intervention_id uuid primary key,
    plan_id         uuid,
    kelurahan_code  text,
    kind            text,
    done_on         date,
    value_rp        bigint
);
