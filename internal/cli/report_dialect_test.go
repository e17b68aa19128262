package cli_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// TestReportKeepsInputDialect: a CSV report is written in its input's
// delimiter and encoding, so that it opens in the program the input came
// from with the same settings, and imports back as it is (with the same
// --encoding); fixed there, it applies.
func TestReportKeepsInputDialect(t *testing.T) {
	const input = "Email;Last Name;Display Name;PBX;Contact Center Premium\n" +
		"lucja.swiatek@acme.example;Świątek;Łucja Świątek;warsaw;tak\n" +
		"zaneta.cwik@acme.example;Ćwik;Żaneta Ćwik;warsaw;FALSE\n"
	utf16 := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	for _, tc := range []struct {
		name     string
		enc      encoding.Encoding
		flag     string // --encoding
		delim    string
		bom      []byte // what the report starts with
		fileName string
	}{
		{"windows-1250 ;", charmap.Windows1250, "windows-1250", ";", nil, "pl.csv"},
		{"iso-8859-2 tab", charmap.ISO8859_2, "iso-8859-2", "\t", nil, "pl.csv"},
		{"UTF-16 tab", utf16, "", "\t", []byte{0xFF, 0xFE}, "pl.txt"},
		{"UTF-8 ;", encoding.Nop, "", ";", []byte{0xEF, 0xBB, 0xBF}, "pl.csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t)
			text := strings.ReplaceAll(input, ";", tc.delim)
			raw, err := tc.enc.NewEncoder().String(text)
			noErr(t, err)
			path := tn.writeFile(tc.fileName, raw)
			args := []string{"import", path, "--org", "acme", "--actor", marie, "--json"}
			if tc.flag != "" {
				args = append(args, "--encoding", tc.flag)
			}
			stdout, _ := tn.mustRun(3, args...)
			if !strings.Contains(stdout, `"created":1,`) {
				t.Fatalf("first run: %s", stdout)
			}
			ext := filepath.Ext(tc.fileName)
			report := strings.TrimSuffix(path, ext) + ".report.csv"
			b := []byte(mustRead(t, report))
			if !bytes.HasPrefix(b, tc.bom) || (tc.bom == nil && bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF})) {
				t.Errorf("report starts % x, want % x", b[:min(len(b), 4)], tc.bom)
			}
			decoded, err := tc.enc.NewDecoder().Bytes(b)
			noErr(t, err)
			got := strings.TrimPrefix(string(decoded), "\uFEFF")
			if !utf8.ValidString(got) || strings.ContainsRune(got, utf8.RuneError) {
				t.Fatalf("report does not decode as %s: %q", tc.name, got)
			}
			lines := strings.Split(strings.TrimRight(got, "\r\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("report has %d lines, want the header and one row:\n%s", len(lines), got)
			}
			header := strings.Split(lines[0], tc.delim)
			if len(header) < 7 || strings.Join(header[:5], ";") != "Email;Last Name;Display Name;PBX;Contact Center Premium" {
				t.Errorf("report header split on %q: %q", tc.delim, header)
			}
			row := strings.Split(lines[1], tc.delim)
			if len(row) < 5 || strings.Join(row[:5], ";") != "lucja.swiatek@acme.example;Świątek;Łucja Świątek;warsaw;tak" {
				t.Errorf("report row split on %q: %q", tc.delim, row)
			}

			// As it is: read without a finding about the file, the same row rejected.
			args[1] = report
			stdout, _ = tn.mustRun(3, args...)
			if !strings.Contains(stdout, `"rows":1,"created":0,"updated":0,"unchanged":0,"deactivated":0,"rejected":1,`) || !strings.Contains(stdout, `"R-BOOL":1`) {
				t.Errorf("report imported as it is: %s", stdout)
			}
			// Fixed in the same encoding: applied.
			fixed, err := tc.enc.NewEncoder().String(strings.Replace(got, tc.delim+"tak"+tc.delim, tc.delim+"TRUE"+tc.delim, 1))
			noErr(t, err)
			tn.writeFile("fixed"+ext, fixed)
			args[1] = filepath.Join(tn.dir, "fixed"+ext)
			stdout, _ = tn.mustRun(0, args...)
			if !strings.Contains(stdout, `"created":1,`) {
				t.Errorf("fixed report: %s", stdout)
			}
			if !strings.Contains(tn.snapshot(), "Łucja Świątek") {
				t.Error("the fixed row's display name did not arrive intact")
			}
		})
	}
}
