package sheet

import (
	"archive/zip"
	"encoding/xml"
	"io"
	"path"
	"strconv"
	"strings"
)

// dimensionWithin is how far into a worksheet its dimension is looked for.
const dimensionWithin = 64 << 10

// declaredRows returns the number of data rows (the header row aside) that
// the worksheet named sheetName declares in its <dimension ref="A1:P12345"/>
// element, or 0 when it declares none, or anything unreadable. It reads the
// worksheet only up to its rows: the element comes before them. A workbook
// may declare anything, so the count is an estimate for a progress display,
// never a limit.
func declaredRows(f io.ReaderAt, size int64, sheetName string) int {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return 0
	}
	parts := make(map[string]*zip.File, len(zr.File))
	for _, zf := range zr.File {
		parts[partName(zf.Name)] = zf
	}
	id := sheetRelID(parts["xl/workbook.xml"], sheetName)
	if id == "" {
		return 0
	}
	target := relTarget(parts["xl/_rels/workbook.xml.rels"], id)
	if target == "" {
		return 0
	}
	ws := parts[target]
	if ws == nil {
		return 0
	}
	rc, err := ws.Open()
	if err != nil {
		return 0
	}
	defer rc.Close()
	// The element is the worksheet's second at most: a worksheet that
	// has none near its start is not read further.
	d := xml.NewDecoder(io.LimitReader(rc, dimensionWithin))
	for {
		tok, err := d.Token()
		if err != nil {
			return 0
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "dimension":
			for _, a := range se.Attr {
				if a.Name.Local == "ref" && a.Name.Space == "" {
					return max(dimensionLastRow(a.Value)-1, 0)
				}
			}
			return 0
		case "sheetData":
			return 0 // no dimension before the rows
		}
	}
}

// sheetRelID returns the relationship id of the sheet named name in the
// workbook part.
func sheetRelID(wb *zip.File, name string) string {
	if wb == nil {
		return ""
	}
	rc, err := wb.Open()
	if err != nil {
		return ""
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "sheet" {
			continue
		}
		var sheet, id string
		for _, a := range se.Attr {
			switch {
			case a.Name.Local == "name" && a.Name.Space == "":
				sheet = a.Value
			case a.Name.Local == "id" && a.Name.Space != "":
				id = a.Value
			}
		}
		if sheet == name {
			return id
		}
	}
}

// relTarget returns the part name (as partName writes it) that the
// relationship id of the workbook names.
func relTarget(rels *zip.File, id string) string {
	if rels == nil {
		return ""
	}
	rc, err := rels.Open()
	if err != nil {
		return ""
	}
	defer rc.Close()
	var doc struct {
		Relationships []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.NewDecoder(rc).Decode(&doc); err != nil {
		return ""
	}
	for _, r := range doc.Relationships {
		if r.ID != id {
			continue
		}
		t := strings.ReplaceAll(r.Target, `\`, "/")
		if strings.HasPrefix(t, "/") {
			return partName(path.Clean(t)[1:])
		}
		return partName(path.Join("xl", t))
	}
	return ""
}

// dimensionLastRow returns the last row of a dimension reference ("A1:P12345"
// is 12345, "A1" is 1), or 0 when ref is not one.
func dimensionLastRow(ref string) int {
	last := ref
	if i := strings.IndexByte(ref, ':'); i >= 0 {
		if !isCellRef(ref[:i]) {
			return 0
		}
		last = ref[i+1:]
	}
	if !isCellRef(last) {
		return 0
	}
	row, _ := strconv.Atoi(strings.TrimLeft(strings.ToUpper(last), "ABCDEFGHIJKLMNOPQRSTUVWXYZ$"))
	return row
}

// isCellRef reports whether s is a cell reference: letters, then a row
// number from 1 to 1,048,576 (either may be absolute, with a $).
func isCellRef(s string) bool {
	s = strings.TrimPrefix(strings.ToUpper(s), "$")
	letters := len(s) - len(strings.TrimLeft(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
	if letters == 0 || letters > 3 {
		return false
	}
	digits := strings.TrimPrefix(s[letters:], "$")
	n, err := strconv.Atoi(digits)
	return err == nil && digits[0] != '+' && digits[0] != '-' && n >= 1 && n <= 1<<20
}
