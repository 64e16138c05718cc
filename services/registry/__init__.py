"""The family registry: families at risk of stunting, verification, enrolment, personal data."""
