-- Issue 11: family-bound free text (delivery and visit notes, intervention descriptions, photo
-- references, who recorded them) is sealed under a key per family; erasing the family destroys
-- its row here (crypto-shredding). Plan and home-visit streams written before this migration
-- were sealed under the service-wide key: they stay readable through it (FamilyKeyCipher).
create table family_keys (
    family_id   uuid primary key,
    wrapped_key bytea not null
);

-- Issue 13 #2: what the plan's remaining budget lacks for its uncovered days.
alter table plans_view add column shortfall_rp bigint not null default 0;

-- Issue 11: the bus carries an opaque photo id; the reference itself stays here.
alter table deliveries_view add column photo_id uuid;

-- Issue 12: the latest effective date among aid's records decides when a plan's days are over.
create index deliveries_view_delivered_on on deliveries_view (delivered_on);
create index aid_growth_measured_on on aid_growth (measured_on);
create index education_sessions_view_held_on on education_sessions_view (held_on);

-- Families whose personal data was erased: no new key is made for them (a late note recorded
-- after the erasure is not sealed for anyone to read).
create table erased_families (
    family_id uuid primary key
);
