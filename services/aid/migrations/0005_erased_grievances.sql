-- Grievances naming no family whose personal data (description, contact, resolution) was erased:
-- their own key is destroyed, and this tombstone keeps a new one from being made for them again.
create table erased_grievances (
    grievance_id uuid primary key,
    erased_at    timestamptz not null default now()
);
