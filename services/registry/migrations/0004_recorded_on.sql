-- The latest effective date among the family's own records (registration, verification, growth,
-- births, exit; not the clock's ChildAgedOut nor an erasure). The aging-out step goes no further
-- than the latest of these over all families: a programme entered late ages its children out as
-- its records reach their birthdays, not on the day the clock first runs (README, "Time").
alter table families_view add column recorded_on date;
update families_view set recorded_on = greatest(registered_on, enrolled_on, exited_on);
