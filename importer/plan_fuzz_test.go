package importer

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"
)

// sealedPlan builds a plan file of these lines, sealed with key.
func sealedPlan(key []byte, lines ...string) []byte {
	var b bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	for _, l := range lines {
		_, _ = gz.Write([]byte(l + "\n")) // into memory: cannot fail
	}
	_ = gz.Close()
	mac := hmac.New(sha256.New, key)
	mac.Write(b.Bytes())
	b.Write(seal(mac.Sum(nil)))
	return b.Bytes()
}

// FuzzPlanFile: whatever the bytes, reading a plan ends with its lines, a
// *PlanFileError or a read error, never a panic or a hang; a plan whose
// seal matches reads to its end.
func FuzzPlanFile(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	f.Add(sealedPlan(key,
		`{"ccbulk_plan":2,"org":"acme","actor":"a@acme.example","input":"users.csv","options":{},"org_state":{}}`,
		`{"row":2,"action":"create","email":"n@acme.example","after":["n@acme.example","N","","","n","paris","active","",false,false,"","",false]}`,
		`{"summary":{"items":1}}`))
	f.Add([]byte("Email\nn@acme.example\n"))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := openPlan(bytes.NewReader(b), "fuzz", key)
		if err != nil {
			return
		}
		for {
			l, err := p.line()
			if err != nil {
				var bad *PlanFileError
				if !errors.As(err, &bad) {
					t.Fatalf("a read error that is not a PlanFileError: %v", err)
				}
				return
			}
			if l.Summary != nil {
				_, _ = p.end()
				return
			}
			if l.Format == 0 {
				_ = p.checkItem(l)
			}
		}
	})
}

// FuzzReadPlan: ReadPlan on any bytes returns its changes or an error,
// never a panic or a hang.
func FuzzReadPlan(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	f.Add(sealedPlan(key,
		`{"ccbulk_plan":2,"org":"acme","actor":"a@acme.example","input":"users.csv","options":{},"org_state":{}}`,
		`{"row":2,"action":"update","email":"n@acme.example","before":["n@acme.example","N","","","n","paris","active","",false,false,"","",false],"after":["n@acme.example","M","","","n","paris","active","",false,false,"","",false]}`,
		`{"action":"deactivate","email":"o@acme.example","before":["o@acme.example","O","","","o","paris","active","",false,false,"","",false]}`,
		`{"summary":{"items":2}}`))
	f.Add([]byte("Email\nn@acme.example\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		_, err := ReadPlan(bytes.NewReader(b), func(_ PlanChange) error {
			n++
			return nil
		})
		if err == nil && n > 1<<20 {
			t.Fatalf("%d changes from %d bytes", n, len(b))
		}
	})
}
