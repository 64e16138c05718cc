-- reporting-aid: one row per child flagged for a home visit (HomeVisitFlagged), visited or not
-- (HomeVisitDone). Counts only: no member, family or weight is kept here.
create table home_visits_view (
    flag_id         uuid primary key,
    kelurahan_code  text,
    flagged_on      date,
    visited_on      date
);
