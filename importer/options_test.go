package importer_test

import (
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
)

// TestOptionsValidate: the checks every front end shares, each refusal an
// *importer.OptionError naming the option, its value and what it needs.
func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts importer.Options
		want *importer.OptionError // nil: valid
	}{
		{name: "defaults", opts: importer.Options{}},
		{name: "sync with its limit", opts: importer.Options{Sync: true, MaxDeactivate: &importer.Threshold{Percent: 2}}},
		{name: "dry run with a plan", opts: importer.Options{DryRun: true, PlanOut: io.Discard, ReportFormat: "jsonl"}},
		{name: "max-deactivate without sync", opts: importer.Options{MaxDeactivate: &importer.Threshold{N: 5}},
			want: &importer.OptionError{Option: importer.OptMaxDeactivate, Problem: importer.NeedsOption, Needs: importer.OptSync}},
		{name: "max-deactivate over 100%", opts: importer.Options{Sync: true, MaxDeactivate: &importer.Threshold{Percent: 101}},
			want: &importer.OptionError{Option: importer.OptMaxDeactivate, Problem: importer.BadPercent, Value: "101%"}},
		{name: "max-rejected NaN%", opts: importer.Options{MaxRejected: &importer.Threshold{Percent: math.NaN()}},
			want: &importer.OptionError{Option: importer.OptMaxRejected, Problem: importer.BadPercent, Value: "NaN%"}},
		{name: "max-rejected negative", opts: importer.Options{MaxRejected: &importer.Threshold{N: -1}},
			want: &importer.OptionError{Option: importer.OptMaxRejected, Problem: importer.BadCount, Value: "-1"}},
		{name: "plan without dry run", opts: importer.Options{PlanOut: io.Discard},
			want: &importer.OptionError{Option: importer.OptPlanOut, Problem: importer.NeedsOption, Needs: importer.OptDryRun}},
		{name: "unknown report format", opts: importer.Options{ReportFormat: "pdf"},
			want: &importer.OptionError{Option: importer.OptReportFormat, Problem: importer.BadChoice, Value: "pdf", Choices: importer.ReportFormats}},
		{name: "max-deactivate without sync comes first", opts: importer.Options{MaxDeactivate: &importer.Threshold{N: 5}, PlanOut: io.Discard, ReportFormat: "pdf"},
			want: &importer.OptionError{Option: importer.OptMaxDeactivate, Problem: importer.NeedsOption, Needs: importer.OptSync}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var got *importer.OptionError
			if !errors.As(err, &got) || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Validate() = %#v, want %#v", err, tc.want)
			}
			if !strings.Contains(err.Error(), string(tc.want.Option)) {
				t.Errorf("%q does not name the option", err)
			}
		})
	}
}

// TestParseThreshold: a count or a percentage over 0 and at most 100.
func TestParseThreshold(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    *importer.Threshold
		problem importer.OptionProblem
	}{
		{in: "500", want: &importer.Threshold{N: 500}},
		{in: " 0 ", want: &importer.Threshold{N: 0}},
		{in: "2.5%", want: &importer.Threshold{Percent: 2.5}},
		{in: "100 %", want: &importer.Threshold{Percent: 100}},
		{in: "0%", problem: importer.BadPercent},
		{in: "101%", problem: importer.BadPercent},
		{in: "NaN%", problem: importer.BadPercent},
		{in: "-1", problem: importer.BadCount},
		{in: "lots", problem: importer.BadCount},
		{in: "", problem: importer.BadCount},
	} {
		got, err := importer.ParseThreshold(importer.OptMaxRejected, tc.in)
		if tc.want != nil {
			if err != nil || *got != *tc.want {
				t.Errorf("ParseThreshold(%q) = %v, %v; want %v", tc.in, got, err, *tc.want)
			}
			continue
		}
		var oe *importer.OptionError
		if !errors.As(err, &oe) || oe.Problem != tc.problem || oe.Option != importer.OptMaxRejected || oe.Value != strings.TrimSpace(tc.in) {
			t.Errorf("ParseThreshold(%q) = %v, %#v; want problem %d", tc.in, got, err, tc.problem)
		}
	}
}

// FuzzParseThreshold: any text is a threshold Validate accepts, or an
// *importer.OptionError; never a panic.
func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"500", "5%", "0", "100%", "NaN%", "-0%", "1e400%", "+3", " 7 % "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := importer.ParseThreshold(importer.OptMaxRejected, s)
		var oe *importer.OptionError
		switch {
		case err != nil && !errors.As(err, &oe):
			t.Fatalf("ParseThreshold(%q): %v is not an OptionError", s, err)
		case err == nil:
			opts := importer.Options{MaxRejected: th}
			if verr := opts.Validate(); verr != nil {
				t.Fatalf("ParseThreshold(%q) = %v, which Validate refuses: %v", s, th, verr)
			}
		}
	})
}
