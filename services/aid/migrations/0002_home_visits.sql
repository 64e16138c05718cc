-- Children's weights, from registry GrowthMeasured events (consumer aid-registry): what the
-- no-weight-gain rule compares. `stream_version` (the family stream's) orders a child's
-- measurements as they were recorded; rebuilt on replay like aid_families.
create table aid_growth (
    measurement_id uuid primary key,
    family_id      uuid    not null,
    member_id      uuid    not null,
    measured_on    date    not null,
    weight_kg      double precision not null,
    stream_version integer not null
);
create index aid_growth_member on aid_growth (member_id, measured_on);

-- The inline read model of the home visit streams: one row per flagged child and day.
create table home_visits_view (
    flag_id        uuid primary key,
    plan_id        uuid,
    family_id      uuid    not null,
    kelurahan_code text    not null,
    member_id      uuid    not null,
    flagged_on     date    not null,
    since          date    not null,
    weight_then_kg double precision not null,
    weight_now_kg  double precision not null,
    status         text    not null,  -- open | visited
    visited_on     date,
    note           text,              -- private: never published
    visited_by     text,
    unique (member_id, flagged_on)
);
create index home_visits_view_kelurahan on home_visits_view (kelurahan_code, status, flagged_on);
