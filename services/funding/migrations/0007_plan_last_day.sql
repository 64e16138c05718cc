-- A plan's last day (AidPlanOpened.end_date): a sponsorship dated after it could never pay for the
-- plan's days, whether or not the clock has ended the plan yet (refused with 409 either way, so
-- late entry gives what entry on the day gave). Null for plans heard of before this column.
alter table funding_plans add column if not exists end_date date;
