package mapping

import (
	"fmt"
	"strings"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// pattern is a header with "*" wildcards, folded like headers are
// (NormalizeHeader): the parts between the stars, in order.
type pattern struct {
	parts []string // literal parts; len 1 when there is no star
}

func compilePattern(s string) pattern {
	return pattern{parts: strings.Split(schema.NormalizeHeader(s), "*")}
}

func (p pattern) wild() bool { return len(p.parts) > 1 }

// match reports whether the folded header h matches. A star matches any run
// of characters, everything else itself: "[Sub123]" brackets are literal.
func (p pattern) match(h string) bool {
	if !p.wild() {
		return h == p.parts[0]
	}
	first, last := p.parts[0], p.parts[len(p.parts)-1]
	if !strings.HasPrefix(h, first) {
		return false
	}
	h = h[len(first):]
	for _, part := range p.parts[1 : len(p.parts)-1] {
		i := strings.Index(h, part)
		if i < 0 {
			return false
		}
		h = h[i+len(part):]
	}
	return strings.HasSuffix(h, last)
}

// matchRule returns the first rule with a source matching the folded header.
func (prof *Profile) matchRule(h string) *Rule {
	for i := range prof.Columns {
		for _, s := range prof.Columns[i].sources {
			if s.match(h) {
				return &prof.Columns[i]
			}
		}
	}
	return nil
}

// ignored reports whether the folded header is in the ignore list: exact
// names when wild is false, patterns with "*" when it is true.
func (prof *Profile) ignored(h string, wild bool) bool {
	for _, s := range prof.Ignore {
		p := compilePattern(s)
		if p.wild() == wild && p.match(h) {
			return true
		}
	}
	return false
}

// binding is one source column mapped by a rule.
type binding struct {
	rule   *Rule
	index  int
	header string
	merge  bool // a further column of the rule: its flags are merged into the first's
}

// rowMapper computes the template cells of a row under a profile.
type rowMapper struct {
	direct   [schema.NumColumns]int // source position of a column copied as it is; -1 when none
	constant [schema.NumColumns]*string
	bound    []binding
}

// Match maps a sheet's header row through the profile. For each header, in
// this order: a columns entry whose source matches it; an ignore entry
// written without "*"; the template's own headers (and their French and
// Polish spellings); an ignore entry with "*"; else it is unknown
// (W-UNKNOWN-COLUMN). A report's trailing Row, Result, Findings (or Row, Status, Findings) are
// recognized as without a mapping. An entry whose targets are all TRUE/FALSE
// columns may match several columns (one license column per subscription):
// their values are merged, TRUE winning. It is F-HEADER when two source
// columns give one template column otherwise, or none gives Email.
func (prof *Profile) Match(file string, headers []string) (*sheet.Layout, error) {
	l := &sheet.Layout{Headers: headers, Report: sheet.ReportGroup(headers)}
	m := &rowMapper{}
	for c := range l.Index {
		l.Index[c] = -1
		m.direct[c] = -1
	}
	from := [schema.NumColumns]string{} // what gives each column, for conflict messages
	claim := func(i int, h string, c schema.Column, how string) error {
		if prev := l.Index[c]; prev >= 0 {
			return &schema.FileError{Rule: schema.FHeader, File: file, Row: 1, Column: h,
				Message: fmt.Sprintf("columns %s and %s (%q and %q) both give the %s column (%s; %s); keep one of them, or ignore one in the mapping",
					sheet.ColumnLetter(prev), sheet.ColumnLetter(i), headers[prev], h, c.Header(), from[c], how)}
		}
		l.Index[c] = i
		from[c] = how
		return nil
	}
	boundRules := map[*Rule]int{}
	for i, h := range headers {
		if l.InReport(i) || strings.TrimSpace(h) == "" {
			continue
		}
		key := schema.NormalizeHeader(h)
		if r := prof.matchRule(key); r != nil {
			if prev, dup := boundRules[r]; dup {
				if !r.flagsOnly() {
					return nil, &schema.FileError{Rule: schema.FHeader, File: file, Row: 1, Column: h,
						Message: fmt.Sprintf("columns %s and %s (%q and %q) both match the mapping's entry on line %d; keep one of them, or give each its own entry",
							sheet.ColumnLetter(prev), sheet.ColumnLetter(i), headers[prev], h, r.Line)}
				}
				// Several columns of TRUE/FALSE flags, such as one license
				// column per subscription: TRUE in any of them wins.
				m.bound = append(m.bound, binding{rule: r, index: i, header: h, merge: true})
				l.Uses = append(l.Uses, sheet.ColumnUse{Header: h, Targets: r.Targets, Values: r.Values != nil})
				continue
			}
			boundRules[r] = i
			how := fmt.Sprintf("%q through the mapping's line %d", h, r.Line)
			for _, t := range r.Targets {
				if err := claim(i, h, t, how); err != nil {
					return nil, err
				}
			}
			m.bound = append(m.bound, binding{rule: r, index: i, header: h})
			l.Uses = append(l.Uses, sheet.ColumnUse{Header: h, Targets: r.Targets, Values: r.Values != nil})
			continue
		}
		if prof.ignored(key, false) {
			l.Uses = append(l.Uses, sheet.ColumnUse{Header: h, Ignored: true})
			continue
		}
		// Another system's column named Version is its own, not the
		// Version of ccbulk's export (which no mapping can give).
		if c, ok := schema.LookupHeader(h); ok && c != schema.ColVersion {
			if err := claim(i, h, c, fmt.Sprintf("%q by its name", h)); err != nil {
				return nil, err
			}
			m.direct[c] = i
			alias := schema.IsAlias(h, c)
			if alias {
				l.Aliased = append(l.Aliased, sheet.Alias{Header: h, Column: c})
			}
			l.Uses = append(l.Uses, sheet.ColumnUse{Header: h, Targets: []schema.Column{c}, Alias: alias})
			continue
		}
		if prof.ignored(key, true) {
			l.Uses = append(l.Uses, sheet.ColumnUse{Header: h, Ignored: true})
			continue
		}
		l.Unknown = append(l.Unknown, h)
		l.Uses = append(l.Uses, sheet.ColumnUse{Header: h, Unknown: true})
	}
	for _, k := range prof.Constants {
		if i := l.Index[k.Target]; i >= 0 {
			return nil, &schema.FileError{Rule: schema.FHeader, File: file, Row: 1, Column: headers[i],
				Message: fmt.Sprintf("column %s (%q) gives the %s column, which the mapping sets to the constant %q (line %d); ignore the column in the mapping, or remove the constant",
					sheet.ColumnLetter(i), headers[i], k.Target, k.Value, k.Line)}
		}
		v := k.Value
		m.constant[k.Target] = &v
		l.Uses = append(l.Uses, sheet.ColumnUse{Targets: []schema.Column{k.Target}, Constant: v})
	}
	if l.Index[schema.ColEmail] < 0 {
		return nil, &schema.FileError{Rule: schema.FHeader, File: file, Row: 1,
			Message: fmt.Sprintf("no column gives Email under the mapping %s; the sheet needs a column the mapping maps to Email (%s), or one named Email (the header read was %s)",
				prof.Name, prof.emailSources(), sheet.HeaderSummary(headers))}
	}
	l.Mapping = m
	return l, nil
}

// emailSources lists the sources the profile maps to Email, for messages.
func (prof *Profile) emailSources() string {
	var list []string
	for _, r := range prof.Columns {
		for _, t := range r.Targets {
			if t == schema.ColEmail {
				for _, s := range r.Sources {
					list = append(list, fmt.Sprintf("%q", s))
				}
			}
		}
	}
	if len(list) == 0 {
		return "it maps none"
	}
	return strings.Join(list, " or ")
}

// Cells implements sheet.RowMapping.
func (m *rowMapper) Cells(row int, fields []string, cells *[schema.NumColumns]string) []schema.Finding {
	for c := range schema.NumColumns {
		switch {
		case m.direct[c] >= 0:
			cells[c] = field(fields, m.direct[c])
		case m.constant[c] != nil:
			cells[c] = *m.constant[c]
		default:
			cells[c] = ""
		}
	}
	var fs []schema.Finding
	for _, b := range m.bound {
		raw := field(fields, b.index)
		r := b.rule
		set := func(t schema.Column, v string) {
			if b.merge {
				v = mergeFlags(cells[t], v)
			}
			cells[t] = v
		}
		if r.Values == nil {
			for _, t := range r.Targets {
				set(t, raw)
			}
			continue
		}
		if k, ok := r.index[schema.NormalizeHeader(raw)]; ok {
			for j, t := range r.Targets {
				set(t, r.Values[k].To[j])
			}
			continue
		}
		if r.keep {
			// A value the map does not list goes on as it is to text
			// columns, whose own rules judge it.
			for _, t := range r.Targets {
				cells[t] = raw
			}
			continue
		}
		if !b.merge {
			for _, t := range r.Targets {
				cells[t] = "" // a blank cell means no change
			}
		}
		if strings.TrimSpace(raw) == "" {
			continue
		}
		fs = append(fs, schema.Finding{Row: row, Column: b.header, Rule: r.unlistedRule(), Message: r.unlistedMessage(raw)})
	}
	return fs
}

// flagsOnly reports whether every target of the rule is a TRUE/FALSE column.
func (r *Rule) flagsOnly() bool {
	for _, t := range r.Targets {
		if !t.IsFlag() {
			return false
		}
	}
	return true
}

// mergeFlags combines two cells of one flag column that come from two
// source columns: a blank one gives way, TRUE wins over FALSE, and a value
// that is not TRUE or FALSE is kept so that R-BOOL reports it.
func mergeFlags(a, b string) string {
	switch {
	case strings.TrimSpace(a) == "":
		return b
	case strings.TrimSpace(b) == "":
		return a
	}
	av, _, aok := rules.ParseBool(a)
	bv, _, bok := rules.ParseBool(b)
	switch {
	case !aok:
		return a
	case !bok:
		return b
	case av || bv:
		return "TRUE"
	}
	return "FALSE"
}

// unlistedRule is the finding for a value the map does not list: R-BOOL
// when the rule gives a TRUE/FALSE column, else R-STATUS (a rule whose
// targets are all text copies unlisted values instead).
func (r *Rule) unlistedRule() schema.RuleID {
	for _, t := range r.Targets {
		if t.IsFlag() {
			return schema.RBool
		}
	}
	return schema.RStatus
}

func (r *Rule) unlistedMessage(raw string) string {
	const most = 8
	var known []string
	for i, v := range r.Values {
		if i == most {
			known = append(known, fmt.Sprintf("… %d more", len(r.Values)-most))
			break
		}
		known = append(known, fmt.Sprintf("%q", v.From))
	}
	return fmt.Sprintf("%q is not a value that mapping %s lists for this column (its line %d lists %s); correct the cell, or add the value to the mapping's values",
		strings.TrimSpace(raw), r.profile, r.Line, strings.Join(known, ", "))
}

func field(fields []string, i int) string {
	if i < len(fields) {
		return fields[i]
	}
	return ""
}
