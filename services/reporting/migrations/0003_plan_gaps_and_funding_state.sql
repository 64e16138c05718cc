-- Gaps are derived, not counted (issue 13 #4): a late delivery that fills a recorded gap removes
-- it, as in aid. `horizon` is the last day accounted for (a delivery's or a recorded gap's last
-- day); the plan's uncovered days are those from its start to the horizon not covered by a
-- delivery, so gap days = horizon - start_date + 1 - days_covered (deliveries never overlap).
alter table plans_view
    add column horizon        date,
    -- AidPlanUnderfunded / AidPlanFullyFunded: what the plan's remaining budget lacks (0: funded).
    add column shortfall_rp   bigint,
    add column uncovered_days integer,
    add column remaining_rp   bigint,
    add column underfunded_on date;
update plans_view p
   set horizon = greatest(p.last_gap_to, (select max(period_to) from deliveries_view d where d.plan_id = p.plan_id));
alter table plans_view drop column gaps, drop column gap_days;
create index deliveries_view_plan on deliveries_view (plan_id);
