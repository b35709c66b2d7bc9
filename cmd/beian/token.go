package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/beian/beian/api"
)

// token prints a bearer token signed with the data directory's dev secret.
func token(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token", stderr)
	data := fs.String("data", "./data", "data directory holding the dev secret")
	role := fs.String("role", "", "role: applicant, reviewer, bureau, auditor or admin")
	account := fs.String("account", "", "account id (default: <role>-1)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	if err := parse(fs, args); err != nil {
		return helpOK(err)
	}
	if *role == "" {
		return fmt.Errorf("--role is required (applicant, reviewer, bureau, auditor or admin)")
	}
	if *ttl <= 0 || *ttl > 30*24*time.Hour {
		return fmt.Errorf("--ttl %s: must be between 1s and 720h", *ttl)
	}
	if *account == "" {
		*account = *role + "-1"
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return fmt.Errorf("--data %s: %w", *data, err)
	}
	tokens, err := devTokens(*data)
	if err != nil {
		return fmt.Errorf("--data %s: %w", *data, err)
	}
	t, err := tokens.Mint(*account, *role, *ttl)
	if err != nil {
		return fmt.Errorf("--role %s: %w", *role, err)
	}
	fmt.Fprintln(stdout, t)
	return nil
}

// helpOK turns a printed --help into success.
func helpOK(err error) error {
	if err == errHelp {
		return nil
	}
	return err
}

// devTokens signs tokens with the data directory's dev secret, creating it
// when missing: what `serve --dev` on that directory accepts.
func devTokens(dir string) (*api.Tokens, error) {
	secret, err := api.LoadOrCreateSecret(filepath.Join(dir, devSecretFile))
	if err != nil {
		return nil, err
	}
	return api.NewTokens(secret, nil)
}
