-- The registry's plan_until (FamilyEnrolled, FamilyEligibilityChanged): the first day the family
-- is no longer planned for. Its minimum, which the money held for it must reach, is its days from
-- enrolled_on to plan_until at the daily minimum; null: the fixed GENTING_PLAN_DAYS.
alter table funding_families add column if not exists plan_until date;
