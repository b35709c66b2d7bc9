// Package commands is the command side: one handler per command of the
// filing domain. A handler loads the filing's stream, asks domain.Decide,
// and appends the events with the expected revision, retrying a bounded
// number of times when another writer got there first. Every command carries
// an idempotency key from which its event ids are derived, so a repeated
// command returns its first result and appends nothing.
//
// The package also declares the ports for the outside world the rules need
// (domain registry, cloud inventory, OCR, liveness, SMS, blob storage, clock).
// It imports domain and the event-store port, never an adapter.
package commands
