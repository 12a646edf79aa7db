"""The statewide service, on the hub (docs/federation.md): it applies what every region shares
(the `ingest` area: validation, versions, history, what was refused) and answers the statewide
views over it (the `views` area: reach, participation, outcome gaps, trends, catalog, directory,
inquiry cycles)."""
