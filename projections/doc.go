// Package projections builds the read models from the event log: filing
// progress, the audit trail, the review queue and statistics. A Runner
// applies $all to each projection from its checkpoint in batches, writing
// the rows and the checkpoint in one read-store transaction, so no event is
// applied twice or skipped across crashes. Projections at one position
// read the log through one subscription and decode each event once (feed).
//
// Projections are versioned and blue/green: a new version (or a rebuild)
// fills fresh tables while the live ones serve, then the registry switches
// to them in one transaction.
//
// It imports domain and the ports it reads and writes (eventstore,
// readstore); never an adapter or the api.
package projections
