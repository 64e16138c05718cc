-- Issue 11: family-bound free text (a sponsorship's note) is sealed under a key per family, kept
-- here wrapped under the service's root key. PersonalDataErased deletes the family's row: what was
-- sealed under it can never be read again (crypto-shredding), even from a backup.
create table family_keys (
    family_id   uuid primary key,
    wrapped_key bytea not null
);

create table sponsorship_notes (
    sponsorship_id uuid primary key,
    family_id      uuid not null,
    sealed         bytea not null
);
create index sponsorship_notes_family on sponsorship_notes (family_id);
