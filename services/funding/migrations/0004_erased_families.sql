-- Families whose personal data was erased (the registry's PersonalDataErased): a tombstone each,
-- so that nothing makes a new key for them (a later sponsorship note is refused), and so that a
-- restore of this database from before an erasure can be told which keys to destroy again.
create table erased_families (
    family_id uuid primary key,
    erased_at timestamptz not null default now()
);
