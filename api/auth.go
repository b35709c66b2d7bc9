package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/beian/beian/commands"
	"github.com/golang-jwt/jwt/v5"
)

// Identity is who a request acts as.
type Identity struct {
	Account string
	Role    string
}

type identityKey struct{}

// WithIdentity returns a context carrying the identity.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the request's identity, if authenticated.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Tokens mints and verifies bearer tokens: HS256 JWTs with the account in
// "sub" and the role in "role".
type Tokens struct {
	secret []byte
	now    func() time.Time
}

// NewTokens uses a secret of at least 32 bytes.
func NewTokens(secret []byte, now func() time.Time) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, errors.New("token secret must be at least 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{secret: secret, now: now}, nil
}

// LoadOrCreateSecret reads the secret file, creating it with 32 random bytes
// (mode 0600) when it does not exist: the dev secret of the data directory.
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		secret, decodeErr := hex.DecodeString(strings.TrimSpace(string(b)))
		if decodeErr != nil {
			return nil, fmt.Errorf("secret %s: %w", path, decodeErr)
		}
		return secret, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secret %s: %w", path, err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateSecret(path) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(secret) + "\n"); err != nil {
		return nil, fmt.Errorf("secret %s: %w", path, err)
	}
	return secret, f.Sync()
}

type claims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// Mint signs a token for an account and role, valid for ttl.
func (t *Tokens) Mint(account, role string, ttl time.Duration) (string, error) {
	if account == "" || !slices.Contains(commands.Roles(), role) || role == commands.RoleSystem {
		return "", fmt.Errorf("cannot mint a token for account %q and role %q", account, role)
	}
	now := t.now()
	c := claims{Role: role, RegisteredClaims: jwt.RegisteredClaims{
		Subject: account, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), Issuer: "beian",
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
}

// Verify checks a token's signature, algorithm and expiry.
func (t *Tokens) Verify(token string) (Identity, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(t.now), jwt.WithIssuer("beian"))
	if err != nil {
		return Identity{}, fmt.Errorf("invalid token: %w", err)
	}
	if c.Subject == "" || !slices.Contains(commands.Roles(), c.Role) || c.Role == commands.RoleSystem {
		return Identity{}, errors.New("invalid token: unknown account or role")
	}
	return Identity{Account: c.Subject, Role: c.Role}, nil
}

// fromHeader verifies an "Authorization: Bearer …" value.
func (t *Tokens) fromHeader(value string) (Identity, error) {
	token, ok := strings.CutPrefix(value, "Bearer ")
	if !ok || token == "" {
		return Identity{}, errors.New("expected Authorization: Bearer <token>")
	}
	return t.Verify(strings.TrimSpace(token))
}
