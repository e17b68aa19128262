package schema

import (
	"fmt"
	"strings"
)

// RuleID is the stable id of a finding (docs/REFERENCE.md §4, The rules).
type RuleID string

// Row rules: errors reject the row, warnings do not.
const (
	REmail         RuleID = "R-EMAIL"
	RDupEmail      RuleID = "R-DUP-EMAIL"
	RBool          RuleID = "R-BOOL"
	RStatus        RuleID = "R-STATUS"
	RText          RuleID = "R-TEXT"
	RLicTier       RuleID = "R-LIC-TIER"
	RLicCapacity   RuleID = "R-LIC-CAPACITY"
	RRoleSingle    RuleID = "R-ROLE-SINGLE"
	RPrimary       RuleID = "R-PRIMARY"
	RExtOrg        RuleID = "R-EXT-ORG"
	RExtPartner    RuleID = "R-EXT-PARTNER"
	RExtCCEnabled  RuleID = "R-EXT-CC-ENABLED"
	RExtScope      RuleID = "R-EXT-SCOPE"
	RPerm          RuleID = "R-PERM"
	RPBX           RuleID = "R-PBX"
	RUsername      RuleID = "R-USERNAME"
	RCCRole        RuleID = "R-CC-ROLE"
	RCopyFrom      RuleID = "R-COPY-FROM"
	RStale         RuleID = "R-STALE"
	WFullAdminLic  RuleID = "W-FULL-ADMIN-LICENSE"
	WBoolLocale    RuleID = "W-BOOL-LOCALE"
	WUnknownColumn RuleID = "W-UNKNOWN-COLUMN"
	WHeaderAlias   RuleID = "W-HEADER-ALIAS"
	FHeader        RuleID = "F-HEADER"
	FEncoding      RuleID = "F-ENCODING"
	FFormat        RuleID = "F-FORMAT"
	FLimit         RuleID = "F-LIMIT"
	FActor         RuleID = "F-ACTOR"
	FOrg           RuleID = "F-ORG"
)

// Severity is error or warning.
type Severity string

// The two severities of a row finding.
const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
)

// Severity returns the rule's severity: W- rules warn, all others are errors.
func (id RuleID) Severity() Severity {
	if strings.HasPrefix(string(id), "W-") {
		return SevWarning
	}
	return SevError
}

// Finding is one rule's verdict on one row (or one cell of it).
type Finding struct {
	Row     int    `json:"-"` // spreadsheet row; the header is row 1
	Rule    RuleID `json:"id"`
	Column  string `json:"column"` // the header as the sheet spells it; empty for the whole row
	Message string `json:"message"`
}

// Severity is the severity of the finding's rule.
func (f Finding) Severity() Severity { return f.Rule.Severity() }

// Format renders the finding like a compiler message:
// users.csv:12: Contact Center Premium: R-BOOL: "yes" is not TRUE or FALSE
func (f Finding) Format(file string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", file, f.Row)
	if f.Column != "" {
		b.WriteString(f.Column)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s: %s", f.Rule, f.Message)
	return b.String()
}

// FileError is a file-level finding (F-*): it stops the run before anything
// is applied. Row and Column are zero when they do not apply.
type FileError struct {
	Rule    RuleID
	File    string
	Row     int
	Column  string
	Message string
	Err     error // the underlying cause, if any
}

func (e *FileError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Row > 0 {
			fmt.Fprintf(&b, ":%d", e.Row)
		}
		b.WriteString(": ")
	}
	if e.Column != "" {
		b.WriteString(e.Column)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s: %s", e.Rule, e.Message)
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }
