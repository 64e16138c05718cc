-- The registry's plan_until (FamilyEnrolled, FamilyEligibilityChanged): a family's own plan days
-- (enrolment to plan_until) fix its minimum in the funding gap; null: the fixed GENTING_PLAN_DAYS.
alter table families_view add column if not exists plan_until date;
