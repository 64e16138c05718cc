-- Interventions are given in kind by a named source: a donor (by id) or an organisation (by code);
-- neither is reported as unnamed. What each source gave sums to interventions_rp.
alter table interventions_view add column source_donor_id uuid;
alter table interventions_view add column source_organisation text;
