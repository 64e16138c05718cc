-- The registry's FamilyEligibilityChanged: a family no longer a programme target gets no new plan.
alter table aid_families add column if not exists eligible boolean not null default true;
