package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/outcome"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/tenant"
)

// planCommand is how the command line makes a plan, named by its remedies.
const planCommand = "ccbulk import FILE --dry-run --plan-out PLAN"

// cliWords puts the errors the lower layers return with data (a limit, a
// batch, the tenant, the actor) into the command line's words, which name
// its flags and commands (docs/REFERENCE.md §5); any other error is returned as it is.
// The server's words are outcome.ServerWords.
func cliWords(err error) error {
	var (
		worded    *outcome.Worded
		sync      *importer.SyncLimitError
		many      *importer.MaxRejectedError
		atomic    *importer.AtomicError
		report    *importer.ReportError
		undo      *importer.UndoRefusedError
		drift     *importer.PlanDriftError
		planFile  *importer.PlanFileError
		refused   *tenant.RefusedError
		other     *importer.OtherOrgError
		syncActor *importer.SyncActorError
		timeout   *store.TimeoutError
		schema    *store.SchemaError
	)
	switch {
	case err == nil, errors.As(err, &worded):
		return err
	case errors.As(err, &sync):
		return outcome.Reword(err, sync, fmt.Sprintf("--sync would deactivate %d users, over the limit of %d (--max-deactivate %s); nothing was applied: check that the sheet is complete, or raise --max-deactivate", sync.Would, sync.Limit, sync.Max)+sync.Listed())
	case errors.As(err, &many):
		return outcome.Reword(err, many, fmt.Sprintf("%d of %d rows were rejected, over the limit of %d (--max-rejected %s); nothing was applied: fix the rows the report lists, or raise --max-rejected", many.Rejected, many.Rows, many.Limit, many.Max))
	case errors.As(err, &atomic):
		return outcome.Reword(err, atomic, "--atomic: "+atomic.RowsRejected()+"; nothing was applied")
	case errors.As(err, &report):
		return outcome.Reword(err, report, fmt.Sprintf("--report %s: cannot write the report there (%s); nothing was applied: choose a writable place with --report", report.Path, report.Cause()))
	case errors.As(err, &undo) && undo.NotFound:
		return outcome.Reword(err, undo, undo.Message+"; 'ccbulk batches --org ID' lists the batches")
	case errors.As(err, &drift):
		return outcome.Reword(err, drift, strings.Replace(drift.Error(), importer.PlanAgain, "make the plan again ("+planCommand+"), check it, and apply the new one", 1))
	case errors.As(err, &planFile):
		remedy := "make the plan again with '" + planCommand + "'"
		if planFile.NotAPlan {
			remedy = "name a plan that '" + planCommand + "' wrote"
		}
		return outcome.Reword(err, planFile, fmt.Sprintf("%s: %s; nothing was applied: %s", planFile.Plan, planFile.Problem, remedy))
	case errors.As(err, &other):
		return outcome.Reword(err, other, strings.Replace(other.Error(), other.Remedy(""), other.Remedy("--org "+other.Other), 1))
	case errors.As(err, &syncActor):
		text := strings.Replace(syncActor.Error(), "a sync needs", "--sync needs", 1)
		return outcome.Reword(err, syncActor, strings.Replace(text, "made with a sync", "made with --sync", 1))
	case errors.As(err, &refused):
		return outcome.Reword(err, refused, refusedWords(refused))
	case errors.As(err, &timeout):
		if timeout.Lock {
			return outcome.Reword(err, timeout, timeout.Error()+", or raise --lock-timeout")
		}
		return outcome.Reword(err, timeout, timeout.Error()+"; raise --statement-timeout (0 for no limit) if the database is just slow")
	case errors.As(err, &schema):
		return outcome.Reword(err, schema, schema.Error()+"; run 'ccbulk migrate' first")
	}
	return err
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
