// Package api serves beian over HTTP: GraphQL (queries, the mutations that
// are the commands, and the filingUpdated subscription over WebSocket),
// uploads, the liveness provider's webhook, health and metrics. Resolvers
// are thin: authorise, call a command handler or read a read model, map
// errors once to extensions.code.
//
// It imports commands, projections and domain, and the ports it reads
// (eventstore for time travel and subscriptions); never an adapter.
package api
