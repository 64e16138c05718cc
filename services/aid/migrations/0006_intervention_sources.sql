-- An intervention is given in kind by the source it names: a donor (id) or an organisation (code).
alter table interventions_view add column source_donor_id uuid;
alter table interventions_view add column source_organisation text;
