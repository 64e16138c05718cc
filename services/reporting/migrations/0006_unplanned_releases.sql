-- Sponsorships funding released because the family had no plan within the hold (reason no_plan):
-- that money is no longer the family's, so the funding gap counts the family short again.
alter table family_funding_view add column if not exists unplanned_released_rp bigint not null default 0;
