// Command vulngate reads govulncheck's JSON output (-format json) on its
// standard input and fails (exit 1) when the code calls a vulnerable
// function of a module it requires, naming each. Known vulnerabilities of
// the standard library are counted and named on standard error but do not
// fail: they are fixed by building with a newer Go patch release, which no
// change to ccbulk's code can do, so they would fail every check on a
// machine whose Go is not the newest. Vulnerabilities in a required module
// that the code does not call are counted only.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// finding is the part of govulncheck's "finding" message vulngate reads.
type finding struct {
	OSV          string `json:"osv"`
	FixedVersion string `json:"fixed_version"`
	Trace        []struct {
		Module   string `json:"module"`
		Version  string `json:"version"`
		Package  string `json:"package"`
		Function string `json:"function"`
		Receiver string `json:"receiver"`
	} `json:"trace"`
}

func main() {
	called, err := gate(os.Stdin, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(2)
	}
	if called > 0 {
		os.Exit(1)
	}
}

// gate reads the messages and reports on w; it returns how many
// vulnerabilities of required modules the code calls.
func gate(r io.Reader, w io.Writer) (called int, err error) {
	dec := json.NewDecoder(r)
	type key struct{ osv, module string }
	// govulncheck reports a vulnerability at the module, the package and
	// the function it reaches, in that order: only a function is a call.
	found := map[key]string{} // every vulnerability, as "OSV in module@version"
	calls := map[key]bool{}
	var stdlib, uncalled []string
	for {
		var msg struct {
			Finding *finding `json:"finding"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, fmt.Errorf("reading govulncheck's JSON: %w", err)
		}
		f := msg.Finding
		if f == nil || len(f.Trace) == 0 {
			continue
		}
		top := f.Trace[0]
		k := key{f.OSV, top.Module}
		found[k] = f.OSV + " in " + top.Module + "@" + top.Version
		if top.Function == "" || calls[k] {
			continue
		}
		calls[k] = true
		if top.Module == "stdlib" {
			stdlib = append(stdlib, f.OSV)
			continue
		}
		called++
		fn := top.Function
		if top.Receiver != "" {
			fn = top.Receiver + "." + fn
		}
		fmt.Fprintf(w, "vulnerable: %s in %s@%s (%s.%s), fixed in %s: update the module (go get %s@%s)\n",
			f.OSV, top.Module, top.Version, top.Package, fn, f.FixedVersion, top.Module, f.FixedVersion)
	}
	for k, what := range found {
		if k.module != "stdlib" && !calls[k] {
			uncalled = append(uncalled, what)
		}
	}
	stdlib = slices.Compact(slices.Sorted(slices.Values(stdlib)))
	uncalled = slices.Compact(slices.Sorted(slices.Values(uncalled)))
	if len(stdlib) > 0 {
		fmt.Fprintf(w, "known vulnerabilities of this Go's standard library that the code reaches: %d %v, fixed in newer Go patch releases (build releases with the newest)\n", len(stdlib), stdlib)
	}
	if len(uncalled) > 0 {
		fmt.Fprintf(w, "known vulnerabilities of required modules that the code does not call: %d %v\n", len(uncalled), uncalled)
	}
	return called, nil
}
