-- The registry's plan_until (FamilyEnrolled, FamilyEligibilityChanged): the first day the family
-- is no longer planned for (GENTING_PLAN_UNTIL_CHILD_MONTHS); null: the fixed GENTING_PLAN_DAYS.
alter table aid_families add column if not exists plan_until date;
