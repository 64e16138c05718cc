-- One database per service: a service never reads another's tables.
create database genting_registry;
create database genting_funding;
create database genting_aid;
create database genting_reporting;
