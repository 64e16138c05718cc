-- Whether the registry still counts the family a programme target (FamilyEligibilityChanged):
-- no new sponsorship for a family that is not, and its held money does not wait for a plan.
alter table funding_families add column if not exists eligible boolean not null default true;
alter table funding_families add column if not exists eligibility_on date;
