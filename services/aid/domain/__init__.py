"""Aid's pure domain, one module per aggregate: `plan` (a family's six-month food plan) and
`session` (an education session); `coverage` is their calendar arithmetic."""
