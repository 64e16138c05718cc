-- Interventions a donor gave in kind (aid's InterventionRecorded naming source_donor_id): shown on
-- the donor's statement as in_kind_interventions_rp. Interventions never draw on sponsorships.
-- What funding learned from aid (like funding_deliveries): never truncated by a replay.
create table donor_in_kind_interventions (
    intervention_id uuid primary key,
    donor_id        uuid   not null,
    plan_id         uuid   not null,
    value_rp        bigint not null,
    done_on         date   not null
);
create index donor_in_kind_interventions_donor on donor_in_kind_interventions (donor_id);
