package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/schema"
)

// copyFlush is how many bytes of rows copyRows gathers before it hands
// them to the driver, which sends them as one CopyData message.
const copyFlush = 64 << 10

// copyData is what lib/pq's COPY statement offers besides database/sql's
// Exec: text already in COPY's format, sent as it is.
type copyData interface {
	CopyData(ctx context.Context, rows string) (driver.Result, error)
}

// errNoCopyData means the driver's COPY statement cannot take rows as text.
var errNoCopyData = errors.New("the PostgreSQL driver cannot stream COPY rows (lib/pq's CopyData is missing)")

// copyRows runs copyIn, a COPY statement of pq.CopyIn, for n rows on conn,
// the connection of the batch's open transaction: row(l, i) writes the
// fields of row i, in the statement's column order, with l's methods.
//
// The rows go to the driver as text in COPY's format, many rows at a
// time, not one database/sql Exec per row: converting and checking every
// value of a million rows through database/sql cost the client as much CPU
// as reading and checking the sheet, CPU the server, on the same machine,
// then lacked for writing the rows.
func copyRows(ctx context.Context, conn *sqlx.Conn, copyIn string, n int, row func(l *copyLine, i int) error) error {
	if n == 0 {
		return nil
	}
	return conn.Raw(func(dc any) (err error) {
		// A COPY cut short (its context cancelled: the run is being rolled
		// back) leaves lib/pq's connection bad, and Conn.Raw closes a
		// connection whose function says driver.ErrBadConn: it would wait
		// for the transaction open on it, whose owner waits for this COPY
		// to return before it rolls back. Said as a lost connection
		// instead, the error ends the COPY; the rollback then finds the
		// connection bad and the pool discards it.
		defer func() {
			if errors.Is(err, driver.ErrBadConn) {
				err = fmt.Errorf("%w during a COPY (%v)", ErrConnectionLost, err.Error())
			}
		}()
		prepare, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errNoCopyData
		}
		stmt, err := prepare.PrepareContext(ctx, copyIn)
		if err != nil {
			return err
		}
		defer stmt.Close()
		data, ok := stmt.(copyData)
		if !ok {
			return errNoCopyData
		}
		var l copyLine
		for i := range n {
			l.startRow()
			if err := row(&l, i); err != nil {
				return err
			}
			if len(l.buf) >= copyFlush || i == n-1 {
				// CopyData copies the text into its message (and ends it
				// with the last row's newline) before it returns, so it
				// is handed l.buf itself, not a copy: a million new users
				// are about 400 MB of COPY text, every byte of which
				// would otherwise be copied once more and collected.
				if _, err := data.CopyData(ctx, unsafe.String(unsafe.SliceData(l.buf), len(l.buf))); err != nil {
					return err
				}
				l.buf = l.buf[:0]
			}
		}
		// Exec without values ends the COPY and returns the server's
		// verdict on every row sent.
		// (lib/pq's COPY statement has no ExecContext.)
		_, err = stmt.Exec(nil) //nolint:staticcheck // SA1019: lib/pq's COPY statement has no ExecContext
		return err
	})
}

// copyLine writes rows in COPY's text format: fields separated by tabs,
// rows by newlines, \N for NULL, and backslash, tab, newline and carriage
// return escaped in text.
type copyLine struct {
	buf   []byte
	first bool // the next field is the row's first
}

func (l *copyLine) startRow() {
	if len(l.buf) > 0 {
		l.buf = append(l.buf, '\n')
	}
	l.first = true
}

func (l *copyLine) field() {
	if !l.first {
		l.buf = append(l.buf, '\t')
	}
	l.first = false
}

// Text writes s.
func (l *copyLine) Text(s string) {
	l.field()
	l.buf = appendEscaped(l.buf, s)
}

// TextBytes writes b, as Text.
func (l *copyLine) TextBytes(b []byte) {
	l.field()
	l.buf = appendEscaped(l.buf, b)
}

// copyEscapes maps each byte COPY's text format escapes to the letter
// after its backslash; every other byte maps to 0 and is written as it is.
var copyEscapes = [256]byte{'\\': '\\', '\t': 't', '\n': 'n', '\r': 'r'}

// appendEscaped appends s escaped, a run of plain bytes at a time (one
// append per byte was a tenth of the client's CPU in a million-row import).
func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if e := copyEscapes[s[i]]; e != 0 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', e)
			start = i + 1
		}
	}
	return append(dst, s[start:]...)
}

// user writes u's stored fields in the order of createColumns after the
// tenant (and of stagingColumns after the activation flag): email to
// status, home organization, licenses, admin role and CC role. blank writes
// the optional ones (home organization, admin role, CC role): l.TextOrNull
// for users, where none is NULL, l.Text for the staging table.
func (l *copyLine) user(u *schema.User, blank func(string)) {
	l.Text(u.Email)
	l.Text(u.FirstName)
	l.Text(u.LastName)
	l.Text(u.DisplayName)
	l.Text(u.Username)
	l.Text(u.PBX)
	l.Text(string(u.Status))
	blank(u.HomeOrg)
	l.Bool(u.Premium)
	l.Bool(u.Standard)
	blank(string(u.AdminRole))
	blank(u.CCRole)
}

// TextOrNull writes s, or NULL when s is empty.
func (l *copyLine) TextOrNull(s string) {
	if s == "" {
		l.field()
		l.buf = append(l.buf, '\\', 'N')
		return
	}
	l.Text(s)
}

// Bool writes b.
func (l *copyLine) Bool(b bool) {
	l.field()
	if b {
		l.buf = append(l.buf, 't')
	} else {
		l.buf = append(l.buf, 'f')
	}
}

// Int writes n.
func (l *copyLine) Int(n int64) {
	l.field()
	l.buf = strconv.AppendInt(l.buf, n, 10)
}
