"""The share service: what a regional instance shares with the statewide hub (docs/federation.md).

It reads what the region's services publish (reflection's suppressed aggregates and participation
figures, membership's public catalog and directory, inquiry-cycle counts), turns each into a
versioned `copnet.share.v1.SharedRecord` made from an allow-list of fields, and sends it through
its outbox onto the region's share stream (`copnet-share.<region>.<kind>`), the only stream the
hub's link can reach.
"""
