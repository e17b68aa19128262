package importer_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

// chunkSheet mixes the cross-row rules so that, read in chunks of 3 rows,
// each of them meets a row of an earlier chunk: seats freed and taken,
// usernames freed and taken, privileges copied from a user created earlier,
// duplicate emails, and rejected rows that must leave no trace. The tenant
// has 2 Premium seats (1 taken) and 9 Standard seats (8 taken).
const chunkSheet = hdr +
	"hugo.moreau@acme.example,,,,,,,,TRUE,,,,,,,\n" + // 2: takes the last Premium seat
	"ewa.zielinska@acme.example,Ewa,Zielińska,,ewa.z,warsaw,,,,,,TRUE,,Supervisors,,FALSE\n" + // 3: new, takes ewa.z in warsaw
	"jean.martin@acme.example,,,,jean.m,,,,,,,,,,,\n" + // 4: frees jmartin in paris
	"louis.garnier@acme.example,,,,,,,,TRUE,,,,,,,\n" + // 5: R-LIC-CAPACITY (row 2 took the seat)
	"paul.david@acme.example,,,,jmartin,,,,,,,,,,,\n" + // 6: takes jmartin, freed by row 4; frees pdavid
	"piotr.wojcik@acme.example,Piotr,Wójcik,,ewa.z,warsaw,,,,,,,,,,FALSE\n" + // 7: R-USERNAME (row 3)
	"sophie.laurent@acme.example,,,,,,,,FALSE,,,,,,,\n" + // 8: frees a Premium seat
	"louis.garnier@acme.example,,,,,,,,TRUE,,,,,,,\n" + // 9: R-DUP-EMAIL (row 5)
	"lena.kraus@acme.example,Lena,Kraus,,,paris,,,,,,,,,ewa.zielinska@acme.example,FALSE\n" + // 10: copies row 3's privileges
	"zoe.martinez@acme.example,,,,,,,,TRUE,,,,,,,\n" + // 11: takes the seat row 8 freed
	"marc.weber@acme.example,Marc,Weber,,,paris,,,TRUE,,,,,,,FALSE\n" + // 12: R-LIC-CAPACITY
	"ghost.user@acme.example,Ghost,,,ghost,paris,,,,yes,,,,,,FALSE\n" + // 13: R-BOOL, rejected
	"yanis.morel@acme.example,,,,,,,,,,,,,,ghost.user@acme.example,\n" + // 14: R-COPY-FROM (row 13 was rejected)
	"oskar.nowak@acme.example,Oskar,Nowak,,ghost,paris,,,,,,,,,,FALSE\n" + // 15: ghost is free
	"hugo.moreau@acme.example,,,,,,,,FALSE,,,,,,,\n" + // 16: R-DUP-EMAIL (row 2)
	"victor.roche@acme.example,,,,,,,,,,,,,,lena.kraus@acme.example,\n" + // 17: copies row 10, itself copied from row 3
	"kim.lee@acme.example,Kim,Lee,,,paris,,,,TRUE,,,,,,FALSE\n" + // 18: takes the last Standard seat
	"li.wang@acme.example,Li,Wang,,,paris,,,,TRUE,,,,,,FALSE\n" + // 19: R-LIC-CAPACITY
	"clara.bonnet@acme.example,,,,,,,,,FALSE,,,,,,\n" + // 20: frees a Standard seat
	"mia.rossi@acme.example,Mia,Rossi,,,paris,,,,TRUE,,,,,,FALSE\n" + // 21: takes it
	"emma.fournier@acme.example,,,,pdavid,,,,,,,,,,,\n" + // 22: takes pdavid, freed by row 6
	"nora.berg@acme.example,Nora,Berg,,jean.m,paris,,,,,,,,,,FALSE\n" + // 23: R-USERNAME (row 4)
	"gabriel.robin@acme.example,,,,,,,,,,,,,,zoe.martinez@acme.example,\n" // 24: copies a database user the file did not change

// chunkFindings are the findings chunkSheet must give, by row.
var chunkFindings = []string{
	"5 R-LIC-CAPACITY Contact Center Premium",
	"7 R-USERNAME Username",
	"9 R-DUP-EMAIL Email",
	"12 R-LIC-CAPACITY Contact Center Premium",
	"13 R-BOOL Contact Center Standard",
	"14 R-COPY-FROM Copy Privileges From",
	"16 R-DUP-EMAIL Email",
	"19 R-LIC-CAPACITY Contact Center Standard",
	"23 R-USERNAME Username",
}

// State is looked up chunk by chunk (importer.Options.ChunkSize): with
// chunks of 3 rows, rules that cross chunk boundaries give the same
// findings, the same report and the same database as one chunk, and as the
// organization read whole before the first row (importer.Options.ReadWhole),
// which asks nothing per chunk.
func TestChunkedLookupsMatchOneChunk(t *testing.T) {
	db, lookups := newCountingDB(t)
	type run struct {
		chunk    int
		whole    bool // read the organization whole
		res      importer.Result
		report   string
		progress []int
		lookups  [2]int64 // users by email, username holders: queries of the dry run
		export   string
	}
	runs := []*run{{chunk: 3}, {chunk: importer.DefaultChunkSize}, {chunk: 3, whole: true}}
	for _, r := range runs {
		tn := addTenantWithSeats(t, db, fmt.Sprintf("chunk-%d-%t", r.chunk, r.whole), 2, 9)
		readWhole := -1
		if r.whole {
			readWhole = 0 // the default: the tenant is small
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "sheet.csv")
		if err := os.WriteFile(path, []byte(chunkSheet), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, dry := range []bool{true, false} {
			var progress []int
			var phases []string
			var last importer.Progress
			before := lookups()
			res, err := importer.Import(t.Context(), pgimporter.New(store.New(db)), importer.Options{
				File: path, Org: tn.org, Actor: primary, DryRun: dry, ChunkSize: r.chunk, ReadWhole: readWhole,
				Report: filepath.Join(dir, "report.jsonl"), Progress: func(p importer.Progress) {
					if p.Phase == "reading" {
						progress, last = append(progress, p.Rows), p
					}
					if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
						phases = append(phases, p.Phase)
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			// The CSV file has been read whole by the last chunk, and the
			// later phases are told as they begin.
			if size := int64(len(chunkSheet)); last.BytesRead != size || last.TotalBytes != size || last.ExpectedRows != 0 {
				t.Errorf("chunks of %d: the last progress is %+v, want %d of %d bytes", r.chunk, last, size, size)
			}
			if want := []string{"reading", "writing", "committing"}; dry {
				if want = want[:1]; !slices.Equal(phases, want) {
					t.Errorf("chunks of %d, dry run: phases %q, want %q", r.chunk, phases, want)
				}
			} else if !slices.Equal(phases, want) {
				t.Errorf("chunks of %d: phases %q, want %q", r.chunk, phases, want)
			}
			report, err := os.ReadFile(filepath.Join(dir, "report.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			// Messages name the tenant: compare the runs as if both were acme.
			report = []byte(strings.ReplaceAll(string(report), tn.org+" has", "acme has"))
			report = []byte(strings.ReplaceAll(string(report), "of "+tn.org+" (", "of acme ("))
			after := lookups()
			if dry {
				r.res, r.report, r.progress = res, string(report), progress
				r.lookups = [2]int64{after[0] - before[0], after[1] - before[1]}
			} else if string(report) != r.report || res.Created != r.res.Created || res.Updated != r.res.Updated || res.Rejected != r.res.Rejected {
				t.Errorf("chunks of %d: the real run differs from the dry run", r.chunk)
			}
		}
		r.export = withoutVersions(t, tn.exportCSV(t, primary)) // each run writes its users in transactions of its own
	}
	small, big, whole := runs[0], runs[1], runs[2]

	// Chunks of 3 really were looked up one at a time.
	if want := []int{3, 6, 9, 12, 15, 18, 21, 23}; !slices.Equal(small.progress, want) {
		t.Errorf("chunks of 3: progress after each chunk %v, want %v", small.progress, want)
	}
	if !slices.Equal(big.progress, []int{23}) {
		t.Errorf("one chunk: progress %v, want [23]", big.progress)
	}
	// One query for the users and one for the username holders per chunk,
	// never one per row.
	if small.lookups != [2]int64{8, 8} || big.lookups != [2]int64{1, 1} || whole.lookups != [2]int64{0, 0} {
		t.Errorf("look-ups (users, usernames): chunks of 3 %v, want [8 8]; one chunk %v, want [1 1]; read whole %v, want none",
			small.lookups, big.lookups, whole.lookups)
	}
	if whole.report != small.report || whole.export != small.export || whole.res.Created != small.res.Created ||
		whole.res.Updated != small.res.Updated || whole.res.Rejected != small.res.Rejected {
		t.Errorf("read whole, the run differs from chunks of 3:\nreport\n%s\nexport\n%s", whole.report, whole.export)
	}

	var got []string
	for _, line := range strings.Split(strings.TrimSpace(small.report), "\n") {
		var row int
		if _, err := fmt.Sscanf(line, `{"row":%d`, &row); err != nil {
			t.Fatalf("report line %q", line)
		}
		for _, id := range []schema.RuleID{schema.RLicCapacity, schema.RUsername, schema.RDupEmail, schema.RBool, schema.RCopyFrom} {
			for _, col := range []string{"Contact Center Premium", "Contact Center Standard", "Username", "Email", "Copy Privileges From"} {
				if strings.Contains(line, fmt.Sprintf(`{"id":"%s","column":"%s"`, id, col)) {
					got = append(got, fmt.Sprintf("%d %s %s", row, id, col))
				}
			}
		}
	}
	if !slices.Equal(got, chunkFindings) {
		t.Errorf("chunks of 3: findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(chunkFindings, "\n"))
	}
	if small.report != big.report {
		t.Errorf("the reports differ:\nchunks of 3:\n%s\none chunk:\n%s", small.report, big.report)
	}
	s, b := small.res, big.res
	if s.Created != b.Created || s.Updated != b.Updated || s.Unchanged != b.Unchanged || s.Rejected != b.Rejected || s.Rejected != len(chunkFindings) {
		t.Errorf("counts differ: chunks of 3 %+v, one chunk %+v", s, b)
	}
	if small.export != big.export {
		t.Errorf("the databases differ after the runs:\nchunks of 3:\n%s\none chunk:\n%s", small.export, big.export)
	}
	for _, want := range []string{
		"lena.kraus@acme.example,Lena,Kraus,,lena.kraus@acme.example,paris,Active,,FALSE,FALSE,FALSE,TRUE,FALSE,Supervisors,,",
		"victor.roche@acme.example,Victor,Roche,Victor Roche,vroche,warsaw,Active,,FALSE,FALSE,FALSE,TRUE,FALSE,Supervisors,,",
		"paul.david@acme.example,Paul,David,Paul David,jmartin,paris,",
		"emma.fournier@acme.example,Emma,Fournier,Emma Fournier,pdavid,paris,",
		"oskar.nowak@acme.example,Oskar,Nowak,,ghost,paris,",
	} {
		if !strings.Contains(small.export, want) {
			t.Errorf("the database after chunks of 3 lacks %q", want)
		}
	}
}

// The state look-ups of the importer, counted on their way to PostgreSQL by
// a thin wrapper around lib/pq's connections (the database is real).
var (
	registerCounting sync.Once
	userLookups      atomic.Int64 // store.FetchUsers
	usernameLookups  atomic.Int64 // store.FetchUsernameHolders
)

// newCountingDB returns a fresh database (with the external organizations
// registered) whose connections count the importer's state look-ups, and a
// function that reads the counts.
func newCountingDB(t *testing.T) (*sqlx.DB, func() [2]int64) {
	t.Helper()
	registerCounting.Do(func() { sql.Register("postgres-counting", countingDriver{}) })
	_, url := testdb.New(t)
	raw, err := sql.Open("postgres-counting", url)
	if err != nil {
		t.Fatal(err)
	}
	db := sqlx.NewDb(raw, "postgres")
	t.Cleanup(func() { db.Close() })
	registerExternals(t, db)
	return db, func() [2]int64 { return [2]int64{userLookups.Load(), usernameLookups.Load()} }
}

type countingDriver struct{}

func (countingDriver) Open(name string) (driver.Conn, error) {
	c, err := pq.Driver{}.Open(name)
	if err != nil {
		return nil, err
	}
	return countingConn{c.(pqConn)}, nil
}

// pqConn is what lib/pq's connection implements and database/sql uses.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.NamedValueChecker
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

type countingConn struct{ pqConn }

func (c countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	switch {
	case strings.Contains(query, "FROM unnest($2::text[]) AS k(wanted) JOIN users"):
		userLookups.Add(1)
	case strings.Contains(query, "FROM unnest($2::text[], $3::text[])"):
		usernameLookups.Add(1)
	}
	return c.pqConn.QueryContext(ctx, query, args)
}
