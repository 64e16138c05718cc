"""The funding service: donors (orang tua asuh), their pledges and contributions, sponsorships of
enrolled families, and the ledger that draws them down as aid is delivered and releases the rest."""
