// Package gqlws serves GraphQL over WebSocket with the graphql-transport-ws
// subprotocol, the protocol of the graphql-ws JavaScript library
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md).
//
// NewHandler returns an http.Handler that upgrades the request, waits for
// connection_init, authenticates its payload, and then runs every subscribe
// message through an Executor (a *graphql.Schema fits) until the operation's
// stream ends, the client completes it, or the socket closes. Protocol
// violations close the socket with the codes declared in protocol.go.
//
// The package is transport only: it must not import the domain, the command
// handlers, the stores or the GraphQL resolvers. Identity travels in the
// context returned by Authenticate.
package gqlws
