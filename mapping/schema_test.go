package mapping

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

const schemaFile = "../docs/mapping.schema.json"

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	return s
}

func keysOf(m any) []string {
	keys := slices.Collect(maps.Keys(m.(map[string]any)))
	sort.Strings(keys)
	return keys
}

func sorted(list []string) []string {
	out := slices.Clone(list)
	sort.Strings(out)
	return out
}

// The JSON Schema names the same keys, template columns and encodings as
// the parser.
func TestSchemaInStep(t *testing.T) {
	s := loadSchema(t)
	defs := s["$defs"].(map[string]any)
	if got := keysOf(s["properties"]); !slices.Equal(got, sorted(topKeys)) {
		t.Errorf("schema's top-level properties %q, parser's keys %q", got, sorted(topKeys))
	}
	column := defs["column"].(map[string]any)
	if got := keysOf(column["properties"]); !slices.Equal(got, sorted(ruleKeys)) {
		t.Errorf("schema's column properties %q, parser's keys %q", got, sorted(ruleKeys))
	}
	var enum []string
	for _, v := range defs["templateColumn"].(map[string]any)["enum"].([]any) {
		enum = append(enum, v.(string))
	}
	if !slices.Equal(enum, schema.TemplateHeaders()) {
		t.Errorf("schema's template columns %q, template's %q", enum, schema.TemplateHeaders())
	}
	var encodings []string
	for _, v := range s["properties"].(map[string]any)["encoding"].(map[string]any)["enum"].([]any) {
		encodings = append(encodings, v.(string))
	}
	want := append(slices.Collect(maps.Keys(sheet.Encodings)), "utf-8")
	if !slices.Equal(sorted(encodings), sorted(want)) {
		t.Errorf("schema's encodings %q, reader's %q", encodings, want)
	}
}

// The built-in profiles and the good fixtures are valid under the JSON
// Schema; the bad fixtures that a schema can judge are not.
func TestSchemaValidatesFixtures(t *testing.T) {
	s := loadSchema(t)
	v := &validator{root: s}
	var valid [][2]string
	for _, name := range Builtins() {
		data, _ := Builtin(name)
		valid = append(valid, [2]string{name, string(data)})
	}
	files, _ := filepath.Glob("../fixtures/legacy/*.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		valid = append(valid, [2]string{f, string(data)})
	}
	valid = append(valid, [2]string{"testProfile", testProfile})
	for _, c := range valid {
		if problems := v.check(t, c[1]); len(problems) > 0 {
			t.Errorf("%s is not valid under %s: %q", c[0], schemaFile, problems)
		}
	}
	invalid := map[string]string{
		"unknown target":        "columns:\n  - source: A\n    target: Emial\n",
		"unknown key":           "columns:\n  - source: A\n    target: Email\n    tagret: x\n",
		"target and targets":    "columns:\n  - source: A\n    target: Email\n    targets: [Username]\n",
		"no source":             "columns:\n  - target: Email\n",
		"unknown top-level key": "colums: []\n",
		"maps nothing":          "name: x\n",
		"constant of no column": "constants:\n  Site: paris\n",
		"bad encoding":          "encoding: latin-9\nignore: [A]\n",
		"empty values":          "columns:\n  - source: A\n    target: Email\n    values: {}\n",
	}
	for name, src := range invalid {
		if problems := v.check(t, src); len(problems) == 0 {
			t.Errorf("%s: valid under the schema, want invalid", name)
		}
		if _, err := Parse("m.yaml", []byte(src)); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
}

// validator checks a document against the part of JSON Schema that
// docs/mapping.schema.json uses; a keyword it does not know fails the test,
// so the schema cannot grow past what is checked here.
type validator struct{ root map[string]any }

func (v *validator) check(t *testing.T, src string) []string {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	var problems []string
	v.validate(t, doc, v.root, "$", &problems)
	return problems
}

var knownKeywords = []string{"$schema", "$id", "title", "description", "type", "enum", "properties",
	"additionalProperties", "required", "items", "oneOf", "anyOf", "$ref", "$defs", "minItems",
	"minLength", "minProperties", "uniqueItems", "propertyNames"}

func (v *validator) validate(t *testing.T, doc any, s map[string]any, at string, problems *[]string) {
	fail := func(format string, args ...any) {
		*problems = append(*problems, at+": "+fmt.Sprintf(format, args...))
	}
	for k := range s {
		if !slices.Contains(knownKeywords, k) {
			t.Fatalf("schema keyword %q at %s is not checked by this test", k, at)
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		def, ok := v.root["$defs"].(map[string]any)[name].(map[string]any)
		if !ok {
			t.Fatalf("schema: %s names no definition", ref)
		}
		v.validate(t, doc, def, at, problems)
	}
	if typ, ok := s["type"]; ok {
		var types []string
		switch tv := typ.(type) {
		case string:
			types = []string{tv}
		case []any:
			for _, x := range tv {
				types = append(types, x.(string))
			}
		}
		if !slices.Contains(types, jsonType(doc)) {
			fail("is a %s, want %s", jsonType(doc), strings.Join(types, " or "))
			return
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, doc) }) {
		fail("%v is not one of the allowed values", doc)
	}
	if n, ok := s["minLength"].(float64); ok {
		if str, isStr := doc.(string); isStr && len(str) < int(n) {
			fail("shorter than %v", n)
		}
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		alts, ok := s[key].([]any)
		if !ok {
			continue
		}
		matched := 0
		for _, alt := range alts {
			var sub []string
			v.validate(t, doc, alt.(map[string]any), at, &sub)
			if len(sub) == 0 {
				matched++
			}
		}
		if key == "oneOf" && matched != 1 || key == "anyOf" && matched == 0 {
			fail("matches %d of the %s alternatives", matched, key)
		}
	}
	switch d := doc.(type) {
	case map[string]any:
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, has := d[r.(string)]; !has {
					fail("has no %s", r)
				}
			}
		}
		if n, ok := s["minProperties"].(float64); ok && len(d) < int(n) {
			fail("has fewer than %v entries", n)
		}
		props, _ := s["properties"].(map[string]any)
		for k, val := range d {
			if names, ok := s["propertyNames"].(map[string]any); ok {
				v.validate(t, k, names, at+"."+k, problems)
			}
			if ps, ok := props[k].(map[string]any); ok {
				v.validate(t, val, ps, at+"."+k, problems)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("unknown key %q", k)
				}
			case map[string]any:
				v.validate(t, val, ap, at+"."+k, problems)
			}
		}
	case []any:
		if n, ok := s["minItems"].(float64); ok && len(d) < int(n) {
			fail("has fewer than %v items", n)
		}
		if u, ok := s["uniqueItems"].(bool); ok && u {
			for i := range d {
				for j := i + 1; j < len(d); j++ {
					if reflect.DeepEqual(d[i], d[j]) {
						fail("item %d repeats item %d", j, i)
					}
				}
			}
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, item := range d {
				v.validate(t, item, items, fmt.Sprintf("%s[%d]", at, i), problems)
			}
		}
	}
}

func jsonType(doc any) string {
	switch doc.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int64, uint64, float64:
		return "number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", doc)
}
