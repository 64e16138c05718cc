-- Bringing the food is paid from the plan's budget too (GENTING_DISTRIBUTION_COST_RP): the rate a
-- plan opened with, what its deliveries' distribution cost so far, and each delivery's share.
-- 0 for what was recorded before: those plans paid the food alone.
alter table plans_view add column distribution_daily_rp bigint not null default 0;
alter table plans_view add column distributed_rp bigint not null default 0;
alter table deliveries_view add column distribution_rp bigint not null default 0;
