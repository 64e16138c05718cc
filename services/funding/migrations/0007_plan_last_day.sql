-- A plan's days (AidPlanOpened.start_date, end_date). A sponsorship dated after its last day could
-- never pay for them, whether or not the clock has ended the plan yet (refused with 409 either way,
-- so late entry gives what entry on the day gave); a sponsorship whose hold ended before its first
-- day is not the plan's money (it goes back no_plan, and pays no delivery).
alter table funding_plans add column if not exists start_date date;
alter table funding_plans add column if not exists end_date date;
-- Plans heard of before: their last day as the donors' families view recorded it from the same
-- AidPlanOpened (family_aid_plans). Not their first day: aid opened them counting every
-- sponsorship of the family, held or not, so for them (start_date null) every one stays the plan's.
update funding_plans p set end_date = f.end_date
from family_aid_plans f
where f.plan_id = p.plan_id and p.end_date is null;
