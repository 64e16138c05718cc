-- Grievances: anyone may raise one; the lurah of its kelurahan (or admin) answers it.

-- Keys of grievances that name no family: their description and contact are sealed under a key
-- of the grievance's own (a named family's are sealed under the family's key, erased with it).
create table grievance_keys (
    grievance_id uuid primary key,
    wrapped_key  bytea not null
);

-- The tracking code is a bearer secret handed to whoever filed it: never in an event.
-- It also records the named family before the first event is sealed (the cipher reads it).
create table grievance_tracking (
    tracking_code text primary key,
    grievance_id  uuid not null unique,
    family_id     uuid
);

-- Read model, written inline with each append.
create table grievances_view (
    grievance_id   uuid primary key,
    kelurahan_code text not null,
    category       text not null,
    status         text not null check (status in ('open', 'escalated', 'resolved')),
    family_id      uuid,
    plan_id        uuid,
    filed_on       date not null,
    due_on         date not null,
    escalated_on   date,
    resolved_on    date,
    version        integer not null
);
create index grievances_view_kelurahan on grievances_view (kelurahan_code, filed_on);
create index grievances_view_open on grievances_view (due_on) where status = 'open';
