package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ccbulk/ccbulk/schema"
)

// TokenPrefix begins every API token, so that a token pasted where it
// should not be is recognized (secret scanners, logs).
const TokenPrefix = "ccb_"

// TokenStore is what tokens need from the database (part of Store).
type TokenStore interface {
	// TokenCreate records a token by the SHA-256 of its secret and fills
	// in its id and creation time.
	TokenCreate(ctx context.Context, t *Token, sha [32]byte) error
	// TokenList returns the tokens of a tenant, by id.
	TokenList(ctx context.Context, tenant string) ([]Token, error)
	// TokenRevoke revokes a token (ErrNotFound when there is none; a
	// token revoked already keeps its first revocation time).
	TokenRevoke(ctx context.Context, id int64) (Token, error)
	// TokenUse finds the token whose secret has this SHA-256 and records
	// that it was used now (ErrNotFound when there is none).
	TokenUse(ctx context.Context, sha [32]byte) (Token, error)
}

// Token is an API token: it acts for one administrator (Actor) of one
// organization. Its secret is never stored, only its SHA-256.
type Token struct {
	ID         int64      `json:"id"`
	Org        string     `json:"org"`
	Actor      string     `json:"actor"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// ErrUnauthorized is wrapped when a token is missing, unknown, expired or
// revoked (HTTP 401).
var ErrUnauthorized = errors.New("unauthorized")

// UnauthorizedError says why a token is refused.
type UnauthorizedError struct{ Reason string }

func (e *UnauthorizedError) Error() string { return e.Reason }

func (e *UnauthorizedError) Unwrap() error { return ErrUnauthorized }

// TokenRequest asks for a new token.
type TokenRequest struct {
	Org, Actor, Name string
	// Expires is how long the token works; 0: until revoked.
	Expires time.Duration
}

// TokenCreate creates a token for an active administrator of an
// organization and returns it with its secret, which is shown once and
// never stored.
func (a *Admin) TokenCreate(ctx context.Context, req TokenRequest, now time.Time) (Token, string, error) {
	org, err := a.Store.OrgGet(ctx, req.Org)
	if err != nil {
		return Token{}, "", err
	}
	actor := strings.ToLower(strings.TrimSpace(req.Actor))
	usage, err := a.Store.OrgUsage(ctx, org.ID)
	if err != nil {
		return Token{}, "", err
	}
	admin := false
	for _, u := range usage.Administrators {
		if u.Email == actor && u.Status == schema.StatusActive {
			admin = true
		}
	}
	if !admin {
		return Token{}, "", &InvalidError{Field: "actor", Value: req.Actor,
			Problem: fmt.Sprintf("%s is not an active administrator of %s; a token acts for one", req.Actor, org.ID)}
	}
	if problem := schema.CheckName("token name", req.Name); req.Name != "" && problem != "" {
		return Token{}, "", &InvalidError{Field: "token name", Value: req.Name, Problem: problem}
	}
	if req.Expires < 0 {
		return Token{}, "", &InvalidError{Field: "expires", Value: req.Expires.String(), Problem: "a token's lifetime is a duration after now, like 90d or 12h"}
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Token{}, "", fmt.Errorf("making a token: %w", err)
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := Token{Org: org.ID, Actor: actor, Name: req.Name}
	if req.Expires > 0 {
		exp := now.Add(req.Expires).UTC()
		t.ExpiresAt = &exp
	}
	if err := a.Store.TokenCreate(ctx, &t, sha256.Sum256([]byte(secret))); err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

// TokenList lists the tokens of an organization.
func (a *Admin) TokenList(ctx context.Context, org string) ([]Token, error) {
	o, err := a.Store.OrgGet(ctx, org)
	if err != nil {
		return nil, err
	}
	return a.Store.TokenList(ctx, o.ID)
}

// TokenRevoke revokes a token: it stops working at once.
func (a *Admin) TokenRevoke(ctx context.Context, id int64) (Token, error) {
	return a.Store.TokenRevoke(ctx, id)
}

// Authenticate returns the token whose secret this is, or an
// *UnauthorizedError when there is none, or it expired or was revoked.
// It does not check the token's actor: what the actor may do is decided
// on each request by the operation itself (F-ACTOR).
func (a *Admin) Authenticate(ctx context.Context, secret string, now time.Time) (Token, error) {
	if secret == "" {
		return Token{}, &UnauthorizedError{Reason: "no token: send 'Authorization: Bearer TOKEN' with a token from 'ccbulk token create'"}
	}
	t, err := a.Store.TokenUse(ctx, sha256.Sum256([]byte(secret)))
	if errors.Is(err, ErrNotFound) {
		return Token{}, &UnauthorizedError{Reason: "the token is not known: check it, or create one with 'ccbulk token create'"}
	}
	if err != nil {
		return Token{}, err
	}
	if t.RevokedAt != nil {
		return Token{}, &UnauthorizedError{Reason: fmt.Sprintf("token %d was revoked on %s", t.ID, t.RevokedAt.UTC().Format(time.RFC3339))}
	}
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return Token{}, &UnauthorizedError{Reason: fmt.Sprintf("token %d expired on %s", t.ID, t.ExpiresAt.UTC().Format(time.RFC3339))}
	}
	return t, nil
}

// ParseExpiry reads a token's lifetime: a Go duration (12h, 90m) or a
// number of days (90d).
func ParseExpiry(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, &InvalidError{Field: "expires", Value: s, Problem: fmt.Sprintf("%q: write a duration like 90d, 12h or 30m", s)}
}
