-- A plan's days (AidPlanOpened.start_date, end_date). A sponsorship dated after its last day could
-- never pay for them, whether or not the clock has ended the plan yet (refused with 409 either way,
-- so late entry gives what entry on the day gave); a sponsorship whose hold ended before its first
-- day is not the plan's money (it goes back no_plan, and pays no delivery). Null for plans heard
-- of before these columns: then every sponsorship of the family counts, as before.
alter table funding_plans add column if not exists start_date date;
alter table funding_plans add column if not exists end_date date;
