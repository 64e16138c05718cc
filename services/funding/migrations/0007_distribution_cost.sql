-- A delivery's cost is its food and the distribution of it (GENTING_DISTRIBUTION_COST_RP, aid's
-- AidDelivered.distribution_rp): funding draws both and keeps them apart. 0 for what was drawn
-- before: it paid food alone.
alter table funding_deliveries add column distribution_rp bigint not null default 0;
alter table sponsorships_view add column drawn_distribution_rp bigint not null default 0;
