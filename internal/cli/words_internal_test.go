package cli

import (
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/ccbulk/ccbulk/app"
	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/tenant"
)

// namesFlagOrCommand matches a flag (--org) or a command ('ccbulk migrate').
var namesFlagOrCommand = regexp.MustCompile(`--[a-z]|'ccbulk [a-z]`)

// TestErrorWordsPerFrontEnd checks that each error a lower layer returns
// with data is worded by both front ends: the command line names its flags
// and commands (cliWords), the HTTP API and the web pages their query
// parameters and no command (outcome.Message), and the error's own message
// names neither. The wrapped error keeps what wraps it, and errors.As still
// finds the data beneath the words.
func TestErrorWordsPerFrontEnd(t *testing.T) {
	refused := func(e *tenant.RefusedError) error {
		return &schema.FileError{Rule: e.Rule(), Message: e.Error(), Err: e}
	}
	tests := []struct {
		name        string
		err         error
		target      any // what errors.As must still find
		cli, server string
	}{
		{"sync limit", &importer.SyncLimitError{Would: 3, Limit: 2, Max: importer.MaxDeactivate{N: 2}, Emails: []string{"a@x.example", "b@x.example"}}, new(*importer.SyncLimitError),
			"--sync would deactivate 3 users, over the limit of 2 (--max-deactivate 2); nothing was applied: check that the sheet is complete, or raise --max-deactivate; it would deactivate a@x.example, b@x.example … and 1 more",
			"the sync would deactivate 3 users, over the limit of 2 (max_deactivate 2); nothing was applied: check that the sheet is complete, or raise max_deactivate; it would deactivate a@x.example, b@x.example … and 1 more"},
		{"max rejected", &importer.MaxRejectedError{Rejected: 5, Rows: 10, Limit: 1, Max: importer.Threshold{Percent: 10}}, new(*importer.MaxRejectedError),
			"5 of 10 rows were rejected, over the limit of 1 (--max-rejected 10%); nothing was applied: fix the rows the report lists, or raise --max-rejected",
			"5 of 10 rows were rejected, over the limit of 1 (max_rejected 10%); nothing was applied: fix the rows the report lists, or raise max_rejected"},
		{"atomic", &importer.AtomicError{Rejected: 1}, new(*importer.AtomicError),
			"--atomic: 1 row rejected; nothing was applied",
			"atomic=true: 1 row rejected; nothing was applied"},
		{"report", &importer.ReportError{Path: "/r/report.csv", Err: fmt.Errorf("open: %w", errors.ErrUnsupported)}, new(*importer.ReportError),
			"--report /r/report.csv: cannot write the report there (open: unsupported operation); nothing was applied: choose a writable place with --report",
			"the report could not be kept (open: unsupported operation); nothing was applied: try again later"},
		{"undo of no batch", fmt.Errorf("undo: %w", &importer.UndoRefusedError{Message: "no batch 9 in acme", NotFound: true, Batch: 9, Org: "acme"}), new(*importer.UndoRefusedError),
			"undo: no batch 9 in acme; 'ccbulk batches --org ID' lists the batches",
			"undo: no batch 9 in acme; the organization's history lists its batches"},
		{"plan drift", &importer.PlanDriftError{Plan: "plan.jsonl", Changes: []string{"x changed"}}, new(*importer.PlanDriftError),
			"plan.jsonl no longer matches the database, so nothing was applied:\n  x changed\nmake the plan again (ccbulk import FILE --dry-run --plan-out PLAN), check it, and apply the new one",
			"plan.jsonl no longer matches the database, so nothing was applied:\n  x changed\nmake the plan again with a new dry run, check it, and apply the new one"},
		{"not a plan", &importer.PlanFileError{Plan: "p", Problem: "no header", NotAPlan: true}, new(*importer.PlanFileError),
			"p: no header; nothing was applied: name a plan that 'ccbulk import FILE --dry-run --plan-out PLAN' wrote",
			"p: no header; nothing was applied: name a plan that a dry run wrote"},
		{"no organization", refused(&tenant.RefusedError{Reason: tenant.NoOrg, Org: "nope"}), new(*schema.FileError),
			`F-ORG: no organization "nope"; create it with 'ccbulk org create', or check --org`,
			`F-ORG: no organization "nope"`},
		{"actor no email", refused(&tenant.RefusedError{Reason: tenant.ActorNotEmail, Org: "acme", Actor: "x", Problem: "x is no email address"}), new(*tenant.RefusedError),
			"F-ACTOR: --actor: x is no email address",
			"F-ACTOR: the acting administrator's email: x is no email address"},
		{"actor not a user", refused(&tenant.RefusedError{Reason: tenant.ActorNotUser, Org: "acme", Actor: "a@x.example"}), new(*tenant.RefusedError),
			"F-ACTOR: a@x.example is not a user of acme; --actor names an active administrator of the organization",
			"F-ACTOR: a@x.example is not a user of acme"},
		{"actor inactive", refused(&tenant.RefusedError{Reason: tenant.ActorInactive, Org: "acme", Actor: "a@x.example"}), new(*tenant.RefusedError),
			"F-ACTOR: a@x.example is inactive in acme; only an active administrator can run ccbulk",
			"F-ACTOR: a@x.example is inactive in acme; only an active administrator can act"},
		{"actor no admin", refused(&tenant.RefusedError{Reason: tenant.ActorNotAdmin, Org: "acme", Actor: "a@x.example"}), new(*tenant.RefusedError),
			"F-ACTOR: a@x.example holds no admin role in acme; only an active administrator can run ccbulk",
			"F-ACTOR: a@x.example holds no admin role in acme; only an active administrator can act"},
		{"sheet of another organization", &schema.FileError{Rule: schema.FOrg, File: "s.csv", Row: 3, Column: "Version", Message: (&importer.OtherOrgError{Version: "globex@4", Other: "globex", Org: "acme"}).Error(), Err: &importer.OtherOrgError{Version: "globex@4", Other: "globex", Org: "acme"}}, new(*importer.OtherOrgError),
			`s.csv:3: Version: F-ORG: the Version "globex@4" names organization globex, but this import is into acme: the sheet was exported from another organization; import it with --org globex, or clear its Version column to apply it here; nothing was applied`,
			`s.csv:3: Version: F-ORG: the Version "globex@4" names organization globex, but this import is into acme: the sheet was exported from another organization; import it into that organization, or clear its Version column to apply it here; nothing was applied`},
		{"sync by a service administrator", &importer.SyncActorError{Actor: "s@x.example", Kind: rules.CCServiceCustomer}, new(*importer.SyncActorError),
			"s@x.example is a Contact Center Service Administrator of the customer organization, who may not deactivate users; --sync needs a Full Administrator",
			"s@x.example is a Contact Center Service Administrator of the customer organization, who may not deactivate users; a sync needs a Full Administrator"},
		{"plan of a sync by a service administrator", &importer.SyncActorError{Actor: "s@x.example", Kind: rules.CCServiceCustomer, Plan: true}, new(*importer.SyncActorError),
			"s@x.example is a Contact Center Service Administrator of the customer organization, who may not deactivate users; the plan was made with --sync, so it needs a Full Administrator",
			"s@x.example is a Contact Center Service Administrator of the customer organization, who may not deactivate users; the plan was made with a sync, so it needs a Full Administrator"},
		{"commit unknown", &importer.CommitUnknownError{Err: store.ErrConnectionLost, Name: "batch", Batch: 4, Tenant: "acme"}, new(*importer.CommitUnknownError),
			"the database connection was lost; it broke while batch 4 was being committed, so whether it was applied cannot be known until the database is back: then 'ccbulk batches --org acme' shows it (applied, or still running: not applied, and the next run marks it failed)",
			"the database connection was lost; it broke while batch 4 was being committed, so whether it was applied cannot be known until the database is back: then the organization's batches show it (applied, or still running: not applied, and the next run marks it failed)"},
		{"statement timeout", &store.TimeoutError{Err: errors.New("canceling statement due to statement timeout")}, new(*store.TimeoutError),
			"a database time limit was reached: a statement ran longer than the statement timeout: canceling statement due to statement timeout; raise --statement-timeout (0 for no limit) if the database is just slow",
			"a database time limit was reached: a statement ran longer than the statement timeout: canceling statement due to statement timeout; try again when the database is less busy"},
		{"lock timeout", &store.TimeoutError{Lock: true, Err: errors.New("canceling statement due to lock timeout")}, new(*store.TimeoutError),
			"a database time limit was reached: waited longer than the lock timeout for a lock another session holds: canceling statement due to lock timeout; find it in pg_stat_activity, or raise --lock-timeout",
			"a database time limit was reached: waited longer than the lock timeout for a lock another session holds: canceling statement due to lock timeout; find it in pg_stat_activity; try again when the database is less busy"},
		{"schema older", &store.SchemaError{Missing: "0014_plan_apply"}, new(*store.SchemaError),
			"the database schema is older than this ccbulk (migration 0014_plan_apply is not applied); run 'ccbulk migrate' first",
			"the database schema is older than this ccbulk (migration 0014_plan_apply is not applied); the server's database needs its migrations applied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if own := tc.err.Error(); namesFlagOrCommand.MatchString(own) {
				t.Errorf("the lower layer's own message names a flag or a command: %q", own)
			}
			cli := cliWords(tc.err)
			if got := cli.Error(); got != tc.cli {
				t.Errorf("command line:\n got %q\nwant %q", got, tc.cli)
			}
			if got := outcome.Message(cli); got != tc.cli {
				t.Errorf("outcome.Message rewords the command line's words: %q", got)
			}
			if got := outcome.Message(tc.err); got != tc.server {
				t.Errorf("server:\n got %q\nwant %q", got, tc.server)
			}
			if namesFlagOrCommand.MatchString(outcome.Message(tc.err)) {
				t.Errorf("the server's words name a flag or a command: %q", outcome.Message(tc.err))
			}
			if !errors.As(cli, tc.target) || !errors.As(outcome.ServerWords(tc.err), tc.target) {
				t.Errorf("the worded error no longer holds its %T", tc.target)
			}
			if outcome.ExitCode(cli) != outcome.ExitCode(tc.err) || outcome.Rule(cli) != outcome.Rule(tc.err) {
				t.Errorf("wording changed the exit code or the rule")
			}
		})
	}
}

// TestExpiryWords: app's refusal of a token's lifetime names no flag; the
// command line adds --expires (token.txtar shows the whole message).
func TestExpiryWords(t *testing.T) {
	_, err := app.ParseExpiry("soon")
	if err == nil || namesFlagOrCommand.MatchString(err.Error()) {
		t.Fatalf("ParseExpiry(soon) = %v, want a refusal that names no flag", err)
	}
	if got, want := err.Error(), `"soon": write a duration like 90d, 12h or 30m`; got != want {
		t.Errorf("ParseExpiry(soon) = %q, want %q", got, want)
	}
}
