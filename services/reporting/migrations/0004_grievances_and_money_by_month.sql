-- Grievances as aid publishes them: category, kelurahan and dates only (never the text).
create table grievances_view (
    grievance_id   uuid primary key,
    kelurahan_code text,
    category       text,
    filed_on       date,
    due_on         date,
    escalated_on   date,
    resolved_on    date
);

-- The public transparency page: money by donor type and calendar month (first day of the month).
create table money_by_month_view (
    month        date not null,
    donor_type   text not null,
    received_rp  bigint not null default 0,
    sponsored_rp bigint not null default 0,
    released_rp  bigint not null default 0,
    drawn_rp     bigint not null default 0,
    primary key (month, donor_type)
);
