package mapping

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ccbulk/ccbulk/rules"
	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// MaxFileSize bounds a mapping file; real ones are a few kilobytes.
const MaxFileSize = 1 << 20

// Profile is a parsed, checked mapping file.
type Profile struct {
	Name        string // the profile's name: a built-in name, the file's name: key, or the file path
	Description string
	Encoding    string // legacy encoding of a CSV that is not UTF-8, used when --encoding is not given
	Columns     []Rule
	Constants   []Constant
	Ignore      []string
}

// Rule maps the source columns whose header matches one of Sources onto
// the template columns Targets.
type Rule struct {
	Sources []string        // headers as written; "*" matches any run of characters
	Targets []schema.Column // one, or several for a fan-out
	Values  []Value         // nil: the cell is copied as it is to every target
	Line    int             // line of the entry in the mapping file

	sources []pattern
	index   map[string]int // normalized source value → position in Values
	keep    bool           // an unlisted value is copied as it is (only text targets)
	profile string         // the profile's name, for messages
}

// Value is one entry of a rule's value map: the source value From gives the
// target cells To (one per target, "" for no change).
type Value struct {
	From string
	To   []string
	Line int
}

// Constant gives every row the same value in one template column.
type Constant struct {
	Target schema.Column
	Value  string
	Line   int
}

// Error is one mistake in a mapping file, at a line of it (0 when the
// mistake is not at one line).
type Error struct {
	File    string
	Line    int
	Message string
}

func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Message)
}

// Errors is every mistake found in a mapping file, in line order. A mapping
// with mistakes is not used: nothing of the sheet is read.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// The keys each level of a mapping file accepts (the JSON Schema in
// docs/mapping.schema.json lists the same; a test keeps them in step).
var (
	topKeys  = []string{"name", "description", "encoding", "columns", "constants", "ignore"}
	ruleKeys = []string{"source", "target", "targets", "values"}
)

type parser struct {
	file string
	errs Errors
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, Error{File: p.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse reads a mapping file. file names it in messages. Every mistake is
// reported (as Errors) with its line; a profile is returned only when
// there is none.
func Parse(file string, data []byte) (prof *Profile, err error) {
	p := &parser{file: file}
	if len(data) > MaxFileSize {
		p.errorf(0, "the file is %d bytes, over the limit of %d for a mapping file; is it the right file?", len(data), MaxFileSize)
		return nil, p.errs
	}
	var doc yaml.Node
	if err := decodeYAML(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.errorf(line, "not valid YAML: %s; check the indentation and quoting of that line (quote a value that holds ': ' or starts with a special character)", msg)
		return nil, p.errs
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errorf(0, "the mapping file is empty; it needs at least one of columns, constants or ignore (start from 'ccbulk mapping show webex')")
		return nil, p.errs
	}
	prof = p.profile(doc.Content[0])
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b Error) int { return a.Line - b.Line })
		return nil, p.errs
	}
	if prof.Name == "" {
		prof.Name = file
	}
	for i := range prof.Columns {
		prof.Columns[i].profile = prof.Name
	}
	return prof, nil
}

// decodeYAML parses YAML into a node tree; a panic of the parser on a
// crafted file becomes an error.
func decodeYAML(data []byte, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the parser failed: %v", r)
		}
	}()
	return yaml.Unmarshal(data, doc)
}

func (p *parser) profile(n *yaml.Node) *Profile {
	prof := &Profile{}
	pairs, ok := p.mapping(n, "the mapping file", topKeys)
	if !ok {
		return prof
	}
	constTargets := map[schema.Column]int{}
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "name":
			prof.Name, _ = p.text(v, "name")
		case "description":
			prof.Description, _ = p.text(v, "description")
		case "encoding":
			if enc, ok := p.text(v, "encoding"); ok && enc != "" {
				lower := strings.ToLower(enc)
				if _, known := sheet.Encodings[lower]; !known && lower != "utf-8" && lower != "utf8" {
					p.errorf(v.Line, "encoding %q is not one ccbulk reads; use one of %s (or utf-8)", enc, sheet.EncodingNames())
				} else {
					prof.Encoding = lower
				}
			}
		case "columns":
			items := p.sequence(v, "columns", "a list of entries, each with source and target (or targets)")
			for _, item := range items {
				if r, ok := p.rule(item); ok {
					prof.Columns = append(prof.Columns, r)
				}
			}
		case "constants":
			cpairs, ok := p.mapping(v, "constants", nil)
			if !ok {
				continue
			}
			for _, ckv := range cpairs {
				target, ok := p.target(ckv[0], "constant")
				if !ok {
					continue
				}
				if prev, dup := constTargets[target]; dup {
					p.errorf(ckv[0].Line, "constant %s is also given on line %d; keep one", target, prev)
					continue
				}
				constTargets[target] = ckv[0].Line
				val, ok := p.cellValue(ckv[1], target, fmt.Sprintf("constant %s", target))
				if !ok {
					continue
				}
				if target == schema.ColEmail {
					p.errorf(ckv[0].Line, "Email cannot be a constant: it is the key of each user; map a source column to it")
					continue
				}
				if val == "" {
					p.errorf(ckv[1].Line, "constant %s is empty; give it a value, or remove it", target)
					continue
				}
				prof.Constants = append(prof.Constants, Constant{Target: target, Value: val, Line: ckv[0].Line})
			}
		case "ignore":
			items := p.sequence(v, "ignore", "a list of headers")
			for _, item := range items {
				if h, ok := p.text(item, "an ignored header"); ok {
					if strings.TrimSpace(h) == "" {
						p.errorf(item.Line, "an empty header in ignore; remove it")
						continue
					}
					prof.Ignore = append(prof.Ignore, h)
				}
			}
		}
	}
	if len(p.errs) > 0 {
		return prof
	}
	if len(prof.Columns) == 0 && len(prof.Constants) == 0 && len(prof.Ignore) == 0 {
		p.errorf(n.Line, "the mapping maps nothing; give at least one of columns, constants or ignore")
	}
	p.checkSources(prof)
	for _, r := range prof.Columns {
		for _, t := range r.Targets {
			if line, dup := constTargets[t]; dup {
				p.errorf(r.Line, "%s is both mapped from a source column here and a constant on line %d; keep one", t, line)
			}
		}
	}
	return prof
}

// checkSources refuses a source header written in two entries: only the
// first could ever match.
func (p *parser) checkSources(prof *Profile) {
	seen := map[string]int{}
	for _, r := range prof.Columns {
		for _, s := range r.Sources {
			key := schema.NormalizeHeader(s)
			if line, dup := seen[key]; dup {
				p.errorf(r.Line, "source %q is also mapped on line %d; a header maps through one entry (use targets to give several columns)", s, line)
				continue
			}
			seen[key] = r.Line
		}
	}
	for _, h := range prof.Ignore {
		key := schema.NormalizeHeader(h)
		if line, dup := seen[key]; dup {
			p.errorf(0, "%q is both mapped (line %d) and ignored; remove it from ignore", h, line)
		}
	}
}

func (p *parser) rule(n *yaml.Node) (Rule, bool) {
	r := Rule{Line: n.Line}
	pairs, ok := p.mapping(n, "a columns entry", ruleKeys)
	if !ok {
		return r, false
	}
	var values *yaml.Node
	var hasTarget, hasTargets bool
	bad := len(p.errs)
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "source":
			r.Sources = p.sources(v)
		case "target":
			hasTarget = true
			if t, ok := p.target(v, "target"); ok {
				r.Targets = []schema.Column{t}
			}
		case "targets":
			hasTargets = true
			items := p.sequence(v, "targets", "a list of template columns")
			if v.Kind == yaml.SequenceNode && len(items) == 0 {
				p.errorf(v.Line, "targets is empty; list the template columns the source column gives")
			}
			for _, item := range items {
				t, ok := p.target(item, "target")
				if !ok {
					continue
				}
				if slices.Contains(r.Targets, t) {
					p.errorf(item.Line, "%s is listed twice in targets", t)
					continue
				}
				r.Targets = append(r.Targets, t)
			}
		case "values":
			values = v
		}
	}
	switch {
	case r.Sources == nil && len(p.errs) == bad:
		p.errorf(n.Line, "the entry has no source; name the header of the source column (source: Header)")
	case hasTarget && hasTargets:
		p.errorf(n.Line, "the entry has both target and targets; use target for one column, targets for several")
	case !hasTarget && !hasTargets:
		p.errorf(n.Line, "the entry has no target; name the template column the source column gives (target: Column)")
	}
	if len(p.errs) > bad {
		return r, false
	}
	for _, s := range r.Sources {
		r.sources = append(r.sources, compilePattern(s))
	}
	r.keep = true
	for _, t := range r.Targets {
		if t.IsFlag() || t == schema.ColStatus {
			r.keep = false
		}
	}
	if values != nil {
		p.values(&r, values, hasTargets)
	}
	return r, len(p.errs) == bad
}

func (p *parser) sources(v *yaml.Node) []string {
	var nodes []*yaml.Node
	if v.Kind == yaml.SequenceNode {
		nodes = v.Content
		if len(nodes) == 0 {
			p.errorf(v.Line, "source is an empty list; name at least one header")
		}
	} else {
		nodes = []*yaml.Node{v}
	}
	var out []string
	for _, item := range nodes {
		s, ok := p.text(item, "source")
		if !ok {
			continue
		}
		switch {
		case strings.TrimSpace(s) == "":
			p.errorf(item.Line, "source is empty; name the header of the source column")
			continue
		case strings.Trim(s, "* ") == "":
			p.errorf(item.Line, "source %q would match every header; name the header of the source column", s)
			continue
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return []string{} // reported above; not nil, so "no source" is not said again
	}
	return out
}

// values reads a rule's value map: source value → one target value, or a
// list of one value per target for a fan-out.
func (p *parser) values(r *Rule, n *yaml.Node, fanOut bool) {
	pairs, ok := p.mapping(n, "values", nil)
	if !ok {
		return
	}
	if len(pairs) == 0 {
		p.errorf(n.Line, "values is empty; list the source values and what each gives, or remove values to copy the cells as they are")
		return
	}
	r.index = make(map[string]int, len(pairs))
	seen := make(map[string]int, len(pairs))
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "a source value in values must be plain text, not a %s", kindName(k))
			continue
		}
		from := k.Value
		key := schema.NormalizeHeader(from)
		if line, dup := seen[key]; dup {
			p.errorf(k.Line, "source value %q is listed twice in values (also on line %d; values compare without case and surrounding spaces)", from, line)
			continue
		}
		seen[key] = k.Line
		val := Value{From: from, Line: k.Line}
		if !fanOut {
			to, ok := p.cellValue(v, r.Targets[0], fmt.Sprintf("value %q", from))
			if !ok {
				continue
			}
			val.To = []string{to}
		} else {
			if v.Kind != yaml.SequenceNode {
				if isNull(v) {
					p.errorf(v.Line, "value %q maps to nothing, leaving %s unmapped; give one value per target as a list, \"\" for no change", from, columnList(r.Targets))
				} else {
					p.errorf(v.Line, "value %q must give a list of %d values, one per target (%s); \"\" for no change", from, len(r.Targets), columnList(r.Targets))
				}
				continue
			}
			if len(v.Content) != len(r.Targets) {
				missing := ""
				if len(v.Content) < len(r.Targets) {
					missing = fmt.Sprintf(", leaving %s unmapped", columnList(r.Targets[len(v.Content):]))
				}
				p.errorf(v.Line, "value %q gives %d values for the %d targets (%s)%s; give one per target, \"\" for no change", from, len(v.Content), len(r.Targets), columnList(r.Targets), missing)
				continue
			}
			good := true
			for i, item := range v.Content {
				to, ok := p.cellValue(item, r.Targets[i], fmt.Sprintf("value %q", from))
				good = good && ok
				val.To = append(val.To, to)
			}
			if !good {
				continue
			}
		}
		r.index[key] = len(r.Values)
		r.Values = append(r.Values, val)
	}
}

// cellValue reads the value a value map or constant gives a template
// column and checks the column takes it.
func (p *parser) cellValue(n *yaml.Node, c schema.Column, what string) (string, bool) {
	if isNull(n) {
		p.errorf(n.Line, "%s maps %s to nothing, leaving it unmapped; write the value, or \"\" to leave the cell blank (no change)", what, c)
		return "", false
	}
	v, ok := p.text(n, what)
	if !ok {
		return "", false
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", true
	}
	switch {
	case c.IsFlag():
		if b, locale, ok := rules.ParseBool(v); !ok || locale {
			p.errorf(n.Line, "%s gives %s %q, which is not TRUE or FALSE; write TRUE, FALSE, or \"\" for no change", what, c, v)
			return "", false
		} else if b {
			return "TRUE", true
		}
		return "FALSE", true
	case c == schema.ColStatus:
		st, ok := rules.ParseStatus(v)
		if !ok {
			p.errorf(n.Line, "%s gives Status %q, which is not Active or Inactive; write Active, Inactive, or \"\" for no change", what, v)
			return "", false
		}
		if st == schema.StatusActive {
			return "Active", true
		}
		return "Inactive", true
	}
	return v, true
}

// target reads a template column name (any header ccbulk recognizes).
func (p *parser) target(n *yaml.Node, what string) (schema.Column, bool) {
	s, ok := p.text(n, what)
	if !ok {
		return 0, false
	}
	c, found := schema.LookupHeader(s)
	if found && c == schema.ColVersion {
		// Only ccbulk's own export writes a Version: no other system's
		// column can give one.
		p.errorf(n.Line, "%s %q is the Version that ccbulk's export writes, which no other system's column gives; map the column to nothing (ignore it)", what, s)
		return 0, false
	}
	if !found {
		hint := ""
		if near := nearestColumn(s); near != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", near)
		}
		p.errorf(n.Line, "%s %q is not a column of the template%s; the columns are %s", what, s, hint, strings.Join(schema.TemplateHeaders(), ", "))
		return 0, false
	}
	return c, true
}

// nearestColumn returns the template header closest to s when it is close
// enough to be a typo, else "".
func nearestColumn(s string) string {
	s = schema.NormalizeHeader(s)
	best, bestDist := "", max(2, len(s)/4)+1
	for _, h := range schema.TemplateHeaders() {
		if d := editDistance(s, schema.NormalizeHeader(h)); d < bestDist {
			best, bestDist = h, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// text reads a scalar as the text written (TRUE stays TRUE, 01 stays 01).
func (p *parser) text(n *yaml.Node, what string) (string, bool) {
	if n.Kind == yaml.AliasNode {
		p.errorf(n.Line, "%s: anchors and aliases (*name) are not supported in mapping files; write the value out", what)
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n.Line, "%s must be plain text, not a %s", what, kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	return n.Value, true
}

// mapping returns the key/value pairs of a mapping node. With known, it
// reports unknown and repeated keys and leaves them out, so the rest is
// still checked. ok is false when n is not a mapping at all.
func (p *parser) mapping(n *yaml.Node, what string, known []string) (pairs [][2]*yaml.Node, ok bool) {
	if n.Kind == yaml.AliasNode {
		p.errorf(n.Line, "%s: anchors and aliases (*name) are not supported in mapping files; write the entries out", what)
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		if known != nil {
			p.errorf(n.Line, "%s must be a mapping of keys (%s), not a %s", what, strings.Join(known, ", "), kindName(n))
		} else {
			p.errorf(n.Line, "%s must be a mapping (key: value lines), not a %s", what, kindName(n))
		}
		return nil, false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "a key of %s must be plain text, not a %s", what, kindName(k))
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) {
			p.errorf(k.Line, "unknown key %q in %s; the keys are %s", k.Value, what, strings.Join(known, ", "))
			continue
		}
		if known != nil {
			if line, dup := seen[k.Value]; dup {
				p.errorf(k.Line, "key %q is given twice in %s (also on line %d)", k.Value, what, line)
				continue
			}
			seen[k.Value] = k.Line
		}
		pairs = append(pairs, [2]*yaml.Node{k, v})
	}
	return pairs, true
}

// sequence returns the items of a list node (none for an empty value),
// reporting anything else.
func (p *parser) sequence(n *yaml.Node, what, want string) []*yaml.Node {
	if n.Kind == yaml.AliasNode {
		p.errorf(n.Line, "%s: anchors and aliases (*name) are not supported in mapping files; write the entries out", what)
		return nil
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "%s must be %s, not a %s", what, want, kindName(n))
		return nil
	}
	return n.Content
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "single value"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

func columnList(cs []schema.Column) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Header()
	}
	return strings.Join(names, ", ")
}
