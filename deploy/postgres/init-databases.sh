#!/bin/sh
# Runs once, on an empty data directory (docker-entrypoint-initdb.d): one owner role and one
# database per service, so a service can neither read nor change another's tables. The passwords
# come from the container's environment (docker-compose.yml); psql quotes them (:'var').
set -eu
for service in registry aid funding reporting; do
    var="$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password="$(printenv "$var")" || { echo "$var is not set" >&2; exit 1; }
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v role="$service" -v db="genting_$service" -v password="$password" <<'SQL'
create role :"role" login password :'password';
create database :"db" owner :"role";
revoke all on database :"db" from public;
SQL
done
