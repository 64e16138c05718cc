"""The aid service: six-month food plans that open by themselves from registry and funding events,
deliveries and the lurah's confirmations, coverage gaps, education sessions and interventions."""
