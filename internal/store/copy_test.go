package store_test

import (
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
)

// TestCopyRows: what copyRows sends is what PostgreSQL stores, text that
// needs escaping and NULLs included, across more rows than one message
// holds.
func TestCopyRows(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := t.Context()
	conn, err := db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	texts := []string{"plain", "", `back\slash`, "tab\there", "new\nline", "carriage\rreturn", `\N`, `\.`, "Zoë 测试 🙂",
		`{"first_name":"A \"quoted\" \\ name"}`, strings.Repeat("long ", 20_000)}
	const rows = 3000 // about 2.5 MB: many CopyData messages
	type row struct {
		ID   int64   `db:"id"`
		Text string  `db:"t"`
		Null *string `db:"n"`
		Flag bool    `db:"f"`
	}
	want := make([]row, rows)
	for i := range want {
		want[i] = row{ID: int64(i), Text: texts[i%len(texts)], Flag: i%3 == 0}
		if i%2 == 1 {
			s := texts[(i+1)%len(texts)]
			want[i].Null = &s
		}
	}
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE copied (id bigint, t text, n text, f boolean)`); err != nil {
		t.Fatal(err)
	}
	err = store.CopyRows(ctx, conn, pq.CopyIn("copied", "id", "t", "n", "f"), rows, func(l *store.CopyLine, i int) error {
		l.Int(want[i].ID)
		l.Text(want[i].Text)
		if want[i].Null == nil {
			l.TextOrNull("")
		} else {
			l.Text(*want[i].Null)
		}
		l.Bool(want[i].Flag)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []row
	if err := tx.SelectContext(ctx, &got, `SELECT id, t, n, f FROM copied ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(got) != rows {
		t.Fatalf("%d rows stored, want %d", len(got), rows)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Text != w.Text || g.Flag != w.Flag || (g.Null == nil) != (w.Null == nil) || (g.Null != nil && *g.Null != *w.Null) {
			t.Fatalf("row %d: stored %+v, sent %+v", i, g, w)
		}
	}

	// A row the server refuses fails the COPY with the server's error.
	err = store.CopyRows(ctx, conn, pq.CopyIn("copied", "id", "t", "n", "f"), 2, func(l *store.CopyLine, _ int) error {
		l.Text("not a number")
		l.Text("")
		l.Text("")
		l.Bool(true)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "invalid input syntax for type bigint") {
		t.Errorf("a refused row: %v", err)
	}
}
