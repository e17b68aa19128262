package cli

import (
	"fmt"
	"strings"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/tenant"
)

// planCommand is how the command line makes a plan, named by its remedies.
const planCommand = "ccbulk import FILE --dry-run --plan-out PLAN"

// cliWords puts the errors the lower layers return with data (a limit, a
// batch, the tenant, the actor) into the command line's words, which name
// its flags and commands (docs/REFERENCE.md §5); any other error is returned as it is.
// The server's words are outcome.ServerWords.
func cliWords(err error) error { return outcome.Reworded(err, cliText) }

// cliText is the command line's words for err.
func cliText(err error) (string, bool) {
	switch e := err.(type) {
	case *importer.SyncLimitError:
		return fmt.Sprintf("--sync would deactivate %d users, over the limit of %d (--max-deactivate %s); nothing was applied: check that the sheet is complete, or raise --max-deactivate", e.Would, e.Limit, e.Max) + e.Listed(), true
	case *importer.MaxRejectedError:
		return fmt.Sprintf("%d of %d rows were rejected, over the limit of %d (--max-rejected %s); nothing was applied: fix the rows the report lists, or raise --max-rejected", e.Rejected, e.Rows, e.Limit, e.Max), true
	case *importer.AtomicError:
		return "--atomic: " + e.RowsRejected() + "; nothing was applied", true
	case *importer.ReportError:
		return fmt.Sprintf("--report %s: cannot write the report there (%s); nothing was applied: choose a writable place with --report", e.Path, e.Cause()), true
	case *importer.UndoRefusedError:
		return e.Message + "; 'ccbulk batches --org ID' lists the batches", e.NotFound
	case *importer.PlanDriftError:
		return strings.Replace(e.Error(), importer.PlanAgain, "make the plan again ("+planCommand+"), check it, and apply the new one", 1), true
	case *importer.PlanFileError:
		remedy := "make the plan again with '" + planCommand + "'"
		if e.NotAPlan {
			remedy = "name a plan that '" + planCommand + "' wrote"
		}
		return fmt.Sprintf("%s: %s; nothing was applied: %s", e.Plan, e.Problem, remedy), true
	case *importer.OtherOrgError:
		return strings.Replace(e.Error(), e.Remedy(""), e.Remedy("--org "+e.Other), 1), true
	case *importer.SyncActorError:
		text := strings.Replace(e.Error(), "a sync needs", "--sync needs", 1)
		return strings.Replace(text, "made with a sync", "made with --sync", 1), true
	case *importer.CommitUnknownError:
		return strings.Replace(e.Error(), importer.Shown, fmt.Sprintf("then 'ccbulk batches --org %s' shows it (applied, or still running: not applied, and the next run marks it failed)", e.Tenant), 1), true
	case *tenant.RefusedError:
		return refusedWords(e), true
	case *store.TimeoutError:
		if e.Lock {
			return e.Error() + ", or raise --lock-timeout", true
		}
		return e.Error() + "; raise --statement-timeout (0 for no limit) if the database is just slow", true
	case *store.SchemaError:
		return e.Error() + "; run 'ccbulk migrate' first", true
	}
	return "", false
}

// refusedWords words a run tenant.Load refused (F-ORG, F-ACTOR) with the
// command line's flags.
func refusedWords(e *tenant.RefusedError) string {
	switch e.Reason {
	case tenant.NoOrg:
		return fmt.Sprintf("no organization %q; create it with 'ccbulk org create', or check --org", e.Org)
	case tenant.ActorNotEmail:
		return "--actor: " + e.Problem
	case tenant.ActorNotUser:
		return fmt.Sprintf("%s is not a user of %s; --actor names an active administrator of the organization", e.Actor, e.Org)
	case tenant.ActorInactive:
		return fmt.Sprintf("%s is inactive in %s; only an active administrator can run ccbulk", e.Actor, e.Org)
	}
	return fmt.Sprintf("%s holds no admin role in %s; only an active administrator can run ccbulk", e.Actor, e.Org)
}
