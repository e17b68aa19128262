package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/ccbulk/ccbulk/schema"
	"github.com/ccbulk/ccbulk/sheet"
)

// genVersion changes whenever the generated sheets change, so that cached
// sheets of an older generator are made again.
const genVersion = 1

// names are first and last names by language; the PBX follows the language.
var names = []struct {
	lang        string
	pbx         string
	first, last []string
}{
	{"pl", "warsaw",
		[]string{"Łukasz", "Zofia", "Małgorzata", "Wojciech", "Agnieszka", "Paweł", "Katarzyna", "Michał", "Grzegorz", "Joanna", "Bartłomiej", "Ewa", "Jędrzej", "Krzysztof", "Aleksandra", "Żaneta"},
		[]string{"Wójcik", "Wiśniewska", "Dąbrowski", "Kowalczyk", "Zieliński", "Szymańska", "Woźniak", "Kozłowski", "Jankowska", "Mazur", "Krawczyk", "Piotrowski", "Grabowska", "Nowakowski", "Pawłowska", "Król", "Wróbel", "Jabłoński", "Sęk", "Łęcka"}},
	{"fr", "paris",
		[]string{"François", "Hélène", "Chloé", "Anaïs", "Gaëlle", "Jérôme", "Océane", "Benoît", "Mélanie", "Noël", "Loïc", "Élodie", "Stéphane", "Céline", "Amélie", "Maëlys"},
		[]string{"Lefèvre", "Dubois", "Moreau", "Girard", "Bonnet", "Mercier", "Faure", "Rousseau", "Chevalier", "Gauthier", "Fontaine", "Bérénger", "Deschênes", "Lemaître", "Hébert", "Crépin"}},
	{"de", "paris",
		[]string{"Jürgen", "Björn", "Günther", "Käthe", "Jörg", "Anja", "Sören", "Lena"},
		[]string{"Müller", "Schröder", "Weiß", "Köhler", "Groß", "Fuchs", "Krämer", "Schäfer"}},
	{"es", "paris",
		[]string{"José", "María", "Iñigo", "Begoña", "Raúl", "Adrián", "Lucía"},
		[]string{"Peña", "Muñoz", "Ibáñez", "Gómez", "Núñez", "Fernández", "Álvarez"}},
	{"en", "paris",
		[]string{"James", "Olivia", "William", "Emma", "Siobhán", "Seán", "Grace"},
		[]string{"Smith", "O'Brien", "Johnson", "Taylor", "MacDonald", "Ó Súilleabháin"}},
	{"vi", "paris",
		[]string{"Hương", "Minh", "Thảo", "Đức"},
		[]string{"Nguyễn", "Trần", "Lê", "Phạm"}},
}

// External organizations registered by the bench (see setupOrg).
const (
	partnerOrg = "northwind" // a partner
	otherOrg   = "contoso"   // another organization, no contact center of its own
)

// genUser is one generated user, kept as the cells of its sheet row.
type genUser struct {
	cells [schema.NumColumns]string
	admin bool
}

// generator makes the same users for every run: row i depends on i only.
type generator struct{}

func (generator) user(i int) genUser {
	rng := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	lang := names[weighted(rng, []int{30, 40, 8, 7, 10, 5})]
	first := lang.first[rng.IntN(len(lang.first))]
	last := lang.last[rng.IntN(len(lang.last))]
	tag := strconv.FormatInt(int64(i), 36)
	var u genUser
	c := &u.cells
	domain := "acme.example"
	pbx := lang.pbx
	if rng.IntN(10) == 0 {
		pbx = map[string]string{"paris": "warsaw", "warsaw": "paris"}[pbx]
	}
	c[schema.ColFirstName] = first
	c[schema.ColLastName] = last
	c[schema.ColDisplayName] = first + " " + last
	c[schema.ColPBX] = pbx
	c[schema.ColStatus] = "Active"
	if rng.IntN(100) < 3 {
		c[schema.ColStatus] = "Inactive"
	}
	for _, col := range []schema.Column{schema.ColPremium, schema.ColStandard, schema.ColFullAdmin, schema.ColCCServiceAdmin, schema.ColReadOnlyAdmin} {
		c[col] = "FALSE"
	}
	// A few administrators of each role, members and external; the rest
	// are agents with a license, or users without one.
	switch r := rng.IntN(100_000); {
	case r < 5:
		c[schema.ColFullAdmin], c[schema.ColCCRole] = "TRUE", schema.DefaultCCRole
	case r < 10:
		c[schema.ColCCServiceAdmin], c[schema.ColCCRole] = "TRUE", "Supervisors"
	case r < 15:
		c[schema.ColReadOnlyAdmin], c[schema.ColCCRole] = "TRUE", schema.DefaultCCRole
	case r < 18:
		c[schema.ColReadOnlyAdmin], c[schema.ColCCRole], c[schema.ColHomeOrg] = "TRUE", schema.DefaultCCRole, partnerOrg
		domain = "northwind.example"
	case r < 20:
		c[schema.ColFullAdmin], c[schema.ColCCRole], c[schema.ColHomeOrg] = "TRUE", schema.DefaultCCRole, partnerOrg
		domain = "northwind.example"
	case r < 23:
		c[schema.ColCCServiceAdmin], c[schema.ColCCRole], c[schema.ColHomeOrg] = "TRUE", schema.DefaultCCRole, otherOrg
		domain = "contoso.example"
	default:
		switch l := rng.IntN(100); {
		case l < 20:
			c[schema.ColPremium] = "TRUE"
		case l < 75:
			c[schema.ColStandard] = "TRUE"
		}
		switch rng.IntN(100) {
		case 0, 1, 2:
			c[schema.ColCCRole] = "Supervisors"
		case 3:
			c[schema.ColCCRole] = "Analysts"
		}
	}
	u.admin = c[schema.ColCCRole] != "" && (c[schema.ColFullAdmin] == "TRUE" || c[schema.ColCCServiceAdmin] == "TRUE" || c[schema.ColReadOnlyAdmin] == "TRUE")
	local := ascii(first) + "." + ascii(last)
	c[schema.ColEmail] = local + "." + tag + "@" + domain
	c[schema.ColUsername] = ascii(first)[:1] + ascii(last) + tag
	return u
}

// changed returns the user of row i as the nightly sheet lists it: one row
// in ten differs from the first import in one field.
func (g generator) changed(i int, u genUser) genUser {
	if i%10 != 3 {
		return u
	}
	c := &u.cells
	kind := (i / 10) % 6
	if u.admin && kind == 3 {
		kind = 1 // no license for administrators
	}
	switch kind {
	case 0: // a new last name
		c[schema.ColLastName] += "-Nowak"
		c[schema.ColDisplayName] = c[schema.ColFirstName] + " " + c[schema.ColLastName]
	case 1:
		c[schema.ColDisplayName] = c[schema.ColLastName] + " " + c[schema.ColFirstName]
	case 2:
		if c[schema.ColStatus] == "Active" {
			c[schema.ColStatus] = "Inactive"
		} else {
			c[schema.ColStatus] = "Active"
		}
	case 3: // premium to standard, standard to none, none to standard
		switch {
		case c[schema.ColPremium] == "TRUE":
			c[schema.ColPremium], c[schema.ColStandard] = "FALSE", "TRUE"
		case c[schema.ColStandard] == "TRUE":
			c[schema.ColStandard] = "FALSE"
		default:
			c[schema.ColStandard] = "TRUE"
		}
	case 4:
		if c[schema.ColPBX] == "paris" {
			c[schema.ColPBX] = "warsaw"
		} else {
			c[schema.ColPBX] = "paris"
		}
	case 5:
		if c[schema.ColCCRole] == "Supervisors" {
			c[schema.ColCCRole] = "Analysts"
		} else {
			c[schema.ColCCRole] = "Supervisors"
		}
	}
	return u
}

// seats returns license seats that leave room for n generated users.
func seats(n int) (premium, standard int) {
	return n/4 + 100, n*6/10 + 100
}

func weighted(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := rng.IntN(total)
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}

var toASCII = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)

// ascii turns a name into the letters of an email address.
func ascii(s string) string {
	s = strings.NewReplacer("ł", "l", "Ł", "L", "ß", "ss", "đ", "d", "Đ", "D").Replace(s)
	s, _, _ = transform.String(toASCII, s)
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sheets are the generated files of one size.
type sheets struct {
	rows      int
	csv, sync string
	xlsx      string // "" when XLSX is skipped
	// serveXLSX is the workbook uploaded to ccbulk serve, of
	// serveXLSXRows rows (the first rows of xlsx; xlsx itself when
	// they are as many); "" when those rows are not measured.
	serveXLSX     string
	serveXLSXRows int
	prefixes      map[int]string // smaller CSVs: the first rows of csv
	dir           string
}

// serveRows is how many rows the workbook uploaded to ccbulk serve has.
func (s *sheets) serveRows() int {
	if s.serveXLSXRows > 0 {
		return s.serveXLSXRows
	}
	return s.rows
}

// generate writes the sheets of n users into dir (kept between runs), and
// a workbook of the first serveXLSX of them for ccbulk serve (0: none).
func generate(dir string, n int, prefixSizes []int, withXLSX bool, serveXLSX int) (*sheets, error) {
	s := &sheets{rows: n, prefixes: map[int]string{}, dir: dir}
	name := func(kind string, rows int, ext string) string {
		return filepath.Join(dir, fmt.Sprintf("%s-%d-v%d.%s", kind, rows, genVersion, ext))
	}
	s.csv, s.sync = name("users", n, "csv"), name("sync", n, "csv")
	for _, p := range prefixSizes {
		s.prefixes[p] = name("users", p, "csv")
	}
	if withXLSX {
		s.xlsx = name("users", n, "xlsx")
		if serveXLSX > 0 {
			s.serveXLSXRows = min(serveXLSX, n)
			s.serveXLSX = name("users", s.serveXLSXRows, "xlsx")
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	all := []string{s.csv, s.sync, s.xlsx, s.serveXLSX}
	for _, p := range s.prefixes {
		all = append(all, p)
	}
	missing := false
	for _, f := range all {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			missing = true
		}
	}
	if !missing {
		return s, nil
	}
	logf("generating %d users in %s", n, dir)

	type out struct {
		path  string
		file  *os.File
		buf   *bufio.Writer
		w     *csv.Writer
		limit int
	}
	open := func(path string, limit int) (*out, error) {
		f, err := os.Create(path + ".tmp")
		if err != nil {
			return nil, err
		}
		buf := bufio.NewWriterSize(f, 1<<20)
		o := &out{path: path, file: f, buf: buf, w: csv.NewWriter(buf), limit: limit}
		return o, o.w.Write(schema.TemplateHeaders())
	}
	var outs []*out
	for _, p := range []struct {
		path  string
		limit int
	}{{s.csv, n}, {s.sync, n}} {
		o, err := open(p.path, p.limit)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	for size, path := range s.prefixes {
		o, err := open(path, size)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	// The workbooks: of n rows, and the smaller one for ccbulk serve.
	type book struct {
		path  string
		file  *os.File
		w     sheet.Writer
		limit int
	}
	var books []*book
	if withXLSX {
		paths := []struct {
			path  string
			limit int
		}{{s.xlsx, n}}
		if s.serveXLSX != "" && s.serveXLSX != s.xlsx {
			paths = append(paths, struct {
				path  string
				limit int
			}{s.serveXLSX, s.serveXLSXRows})
		}
		for _, p := range paths {
			f, err := os.Create(p.path + ".tmp")
			if err != nil {
				return nil, err
			}
			w, err := sheet.NewWriter(sheet.XLSX, f, sheet.WriterOptions{SheetName: "Users"})
			if err != nil {
				return nil, err
			}
			if err := w.WriteHeader(schema.TemplateHeaders()); err != nil {
				return nil, err
			}
			books = append(books, &book{path: p.path, file: f, w: w, limit: p.limit})
		}
	}
	var g generator
	for i := 1; i <= n; i++ {
		u := g.user(i)
		cells := u.cells[:schema.ColVersion] // a sheet of the template: no Version
		for k, o := range outs {
			if i > o.limit {
				continue
			}
			row := cells
			if k == 1 {
				ch := g.changed(i, u)
				row = ch.cells[:schema.ColVersion]
			}
			if err := o.w.Write(row); err != nil {
				return nil, err
			}
		}
		for _, b := range books {
			if i <= b.limit {
				if err := b.w.WriteRow(cells, nil); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, o := range outs {
		o.w.Flush()
		if err := o.w.Error(); err != nil {
			return nil, err
		}
		if err := o.buf.Flush(); err != nil {
			return nil, err
		}
		if err := o.file.Close(); err != nil {
			return nil, err
		}
		if err := os.Rename(o.path+".tmp", o.path); err != nil {
			return nil, err
		}
	}
	for _, b := range books {
		if err := b.w.Close(); err != nil {
			return nil, err
		}
		if err := b.file.Close(); err != nil {
			return nil, err
		}
		if err := os.Rename(b.path+".tmp", b.path); err != nil {
			return nil, err
		}
	}
	return s, nil
}
