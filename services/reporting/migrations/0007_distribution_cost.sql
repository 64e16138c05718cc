-- Bringing the food (GENTING_DISTRIBUTION_COST_RP) is paid from the plans' budgets beside the food,
-- and shown apart from it: each delivery's distribution_rp (aid's AidDelivered), a plan's total
-- and rate, what the sponsorships drew for it (funding's SponsorshipDrawn.distribution_rp), and
-- what of a delivery's unfunded rest was distribution (funding's DeliveryUnfunded).
alter table deliveries_view add column distribution_rp bigint;
alter table plans_view add column distribution_rp bigint not null default 0;
alter table plans_view add column distribution_daily_rp bigint;
alter table donors_view add column drawn_distribution_rp bigint not null default 0;
alter table unfunded_deliveries_view add column distribution_rp bigint;
alter table unfunded_deliveries_view add column unfunded_distribution_rp bigint;
