-- The agency import's ledger: which family each imported row became. A row is known by a keyed
-- hash of its normalised content (never the content itself), so re-importing a file, or the same
-- row in another file, registers nothing twice. Deleted with the family's personal data.
create table import_rows (
    row_hash    bytea primary key,
    family_id   uuid not null,
    imported_by text not null,
    imported_at timestamptz not null default now()
);
create index import_rows_family on import_rows (family_id);
