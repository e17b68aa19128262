package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ccbulk/ccbulk/schema"
)

// ErrNotFound is wrapped when an organization, role or user does not exist
// (schema.ErrNotFound: the same value, which every store returns).
var ErrNotFound = schema.ErrNotFound

// ErrExists is wrapped when something created exists already (also under
// another letter case).
var ErrExists = errors.New("already exists")

// ErrRefused is wrapped by every refusal of this package: the request was
// understood and is not allowed, and nothing was changed.
var ErrRefused = errors.New("refused")

// SeatsInUseError refuses seats below those in use.
type SeatsInUseError struct {
	Org   string
	Tier  string // "Contact Center Premium" or "Contact Center Standard"
	Seats int
	Used  int
}

func (e *SeatsInUseError) Error() string {
	return fmt.Sprintf("%s has %s holding %s, more than %d seats; nothing was changed: take the license from %s first, or keep at least %d seats",
		e.Org, users(e.Used), e.Tier, e.Seats, users(e.Used-e.Seats), e.Used)
}

func (e *SeatsInUseError) Unwrap() error { return ErrRefused }

// RoleInUseError refuses to delete a CC role that users hold.
type RoleInUseError struct {
	Org, Role string
	Holders   int
	Some      []string // a few of the holders' emails
}

func (e *RoleInUseError) Error() string {
	who := strings.Join(e.Some, ", ")
	if e.Holders > len(e.Some) {
		who += fmt.Sprintf(" and %d more", e.Holders-len(e.Some))
	}
	return fmt.Sprintf("CC role %q of %s is held by %s (%s); nothing was changed: give them another CC role first", e.Role, e.Org, users(e.Holders), who)
}

func (e *RoleInUseError) Unwrap() error { return ErrRefused }

// RoleDefaultError refuses to delete the System Default role or rename it.
type RoleDefaultError struct{ Org string }

func (e *RoleDefaultError) Error() string {
	return fmt.Sprintf("System Default is the CC role every administrator of %s gets by default; it cannot be deleted (its permissions can be changed)", e.Org)
}

func (e *RoleDefaultError) Unwrap() error { return ErrRefused }

// PrimaryError refuses a primary administrator handover.
type PrimaryError struct {
	Org, Email string
	Reason     string // why the user cannot be the primary administrator
}

func (e *PrimaryError) Error() string {
	return fmt.Sprintf("%s cannot be the primary administrator of %s: %s; nothing was changed", e.Email, e.Org, e.Reason)
}

func (e *PrimaryError) Unwrap() error { return ErrRefused }

// NotFoundError says what does not exist: an organization, or a CC role or
// user of one.
type NotFoundError struct {
	What string // "organization", "CC role", "user"
	Name string
	Org  string // the organization searched, for a role or a user
}

func (e *NotFoundError) Error() string {
	if e.Org == "" {
		return fmt.Sprintf("no %s %q", e.What, e.Name)
	}
	return fmt.Sprintf("no %s %q in %s", e.What, e.Name, e.Org)
}

func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// users counts users in words: "1 user", "3 users".
func users(n int) string {
	if n == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", n)
}
