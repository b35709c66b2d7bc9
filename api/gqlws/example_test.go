package gqlws_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/beian/beian/api/gqlws"
)

// ExampleNewHandler serves a schema's operations over graphql-transport-ws,
// taking the bearer token from the connection_init payload.
func ExampleNewHandler() {
	schema := graphql.MustParseSchema(testSchema, &root{})
	auth := func(ctx context.Context, payload map[string]any) (context.Context, error) {
		header, _ := payload["Authorization"].(string)
		token, ok := strings.CutPrefix(header, "Bearer ")
		if !ok || token == "" {
			return nil, errors.New("missing bearer token")
		}
		return context.WithValue(ctx, identityKey{}, token), nil // verify the token here
	}
	mux := http.NewServeMux()
	mux.Handle("GET /graphql", gqlws.NewHandler(schema, auth, gqlws.Options{InitTimeout: 5 * time.Second}))
	_ = &http.Server{Addr: "127.0.0.1:8080", Handler: mux}
}
