-- The next day a baduta of the family turns 24 months (the clock step's index); null when none,
-- and once the family's personal data is erased (it is derived from a birth date).
alter table families_view add column ages_out_on date;
create index families_view_ages_out_on on families_view (ages_out_on) where ages_out_on is not null;

-- Who registered the family (a token's `sub`): a census officer reads the families it registered.
alter table families_view add column registered_by text;
