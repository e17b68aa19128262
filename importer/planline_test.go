package importer

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ccbulk/ccbulk/schema"
)

// planUserCases are users with every kind of text a cell may hold.
var planUserCases = []planUser{
	{},
	{Email: "a@acme.example", FirstName: "Łukasz", LastName: "Wójcik", DisplayName: "Nguyễn \"Bo\" <b>&", Username: `back\slash`,
		PBX: "paris", Status: schema.StatusActive, HomeOrg: "northwind", Premium: true, Standard: false,
		AdminRole: schema.AdminRole("full"), CCRole: "Supervisors", Primary: true},
	{Email: "c@acme.example", FirstName: "tab\there", LastName: "new\nline", DisplayName: "\x00\x1f", Username: "bad \xff utf-8",
		PBX: "warsaw", Status: schema.StatusInactive, Standard: true, CCRole: "\u2028"},
}

// TestPlanLineJSON: a planned change written by hand is the JSON value
// encoding/json writes of the same line (some characters escaped
// otherwise), and reads
// back as encoding/json reads it, whether its users take the fast way or
// not.
func TestPlanLineJSON(t *testing.T) {
	for i := range planUserCases {
		u := &planUserCases[i]
		for _, l := range []planItemLine{
			{Row: 2, Action: actionCreate, Email: u.Email, After: u, Activation: true},
			{Row: 3, Action: actionUpdate, Email: u.Email, State: "1234", Before: u, After: u, Uses: []planUse{{Email: "x\"@acme.example", State: "77"}}},
			{Action: actionDeactivate, Email: u.Email, State: "9", Before: u},
		} {
			got := l.appendJSON(nil)
			var back planLine
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("%s: not a line of a plan: %v", got, err)
			}
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(refLine(l)); err != nil {
				t.Fatal(err)
			}
			var gotValue, wantValue any
			if err := json.Unmarshal(got, &gotValue); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(want.Bytes(), &wantValue); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotValue, wantValue) {
				t.Errorf("written by hand:\n %s\nencoding/json:\n %s", got, want.String())
			}
			if back.Row != l.Row || back.Action != l.Action || back.Email != l.Email || back.State != l.State || back.Activation != l.Activation || len(back.Uses) != len(l.Uses) {
				t.Errorf("%s read back as %+v", got, back)
			}
			for _, pair := range [][2]*planUser{{back.Before, l.Before}, {back.After, l.After}} {
				if (pair[0] == nil) != (pair[1] == nil) || pair[0] != nil && *pair[0] != utf8Clean(*pair[1]) {
					t.Errorf("%s: a user read back as %+v, want %+v", got, pair[0], pair[1])
				}
			}
		}
	}
}

// refLine is a line as encoding/json would write it, its users as arrays.
func refLine(l planItemLine) any {
	user := func(u *planUser) any {
		if u == nil {
			return nil
		}
		return []any{u.Email, u.FirstName, u.LastName, u.DisplayName, u.Username, u.PBX, u.Status,
			u.HomeOrg, u.Premium, u.Standard, u.AdminRole, u.CCRole, u.Primary}
	}
	return struct {
		Row        int       `json:"row,omitempty"`
		Action     string    `json:"action"`
		Email      string    `json:"email"`
		State      string    `json:"state,omitempty"`
		Before     any       `json:"before,omitempty"`
		After      any       `json:"after,omitempty"`
		Activation bool      `json:"activation,omitempty"`
		Uses       []planUse `json:"uses,omitempty"`
	}{l.Row, l.Action, l.Email, l.State, user(l.Before), user(l.After), l.Activation, l.Uses}
}

// utf8Clean is u as JSON carries it: bytes that are not UTF-8 read back as
// U+FFFD, one each.
func utf8Clean(u planUser) planUser {
	fix := func(s string) string { return string([]rune(s)) } // each byte that is not UTF-8: U+FFFD
	for _, p := range []*string{&u.Email, &u.FirstName, &u.LastName, &u.DisplayName, &u.Username, &u.PBX, &u.HomeOrg, &u.CCRole} {
		*p = fix(*p)
	}
	u.Status, u.AdminRole = schema.Status(fix(string(u.Status))), schema.AdminRole(fix(string(u.AdminRole)))
	return u
}

// FuzzPlanUserFast: whatever the bytes, a user's array the fast decoder
// takes is valid JSON that encoding/json decodes to the same user; and a
// user written by hand reads back the same, by either way.
func FuzzPlanUserFast(f *testing.F) {
	for i := range planUserCases {
		f.Add(planUserCases[i].appendJSON(nil))
	}
	f.Add([]byte(`["a","b","c","d","e","f","active","",true,false,"","",false]`))
	f.Add([]byte(`["a","b","c","d","e","f","active","",true,false,"","",false] `))
	f.Add([]byte(`["a" ,"b","c","d","e","f","active","",true,false,"","",null]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast planUser
		if fast.decodeFast(b) {
			if !json.Valid(b) {
				t.Fatalf("the fast decoder took %q, which is not JSON", b)
			}
			var slow planUser
			if err := slow.decodeSlow(b); err != nil || slow != fast {
				t.Fatalf("%q: fast %+v, encoding/json %+v (%v)", b, fast, slow, err)
			}
		}
		// Any text, written and read back.
		s := string(b)
		u := planUser{Email: s, FirstName: s, DisplayName: s, CCRole: s, Status: schema.Status(s), Premium: len(s)%2 == 0}
		var back planUser
		if err := json.Unmarshal(u.appendJSON(nil), &back); err != nil || back != utf8Clean(u) {
			t.Fatalf("%q: read back as %+v (%v)", s, back, err)
		}
	})
}
