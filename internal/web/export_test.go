package web

// HashToken is hashToken, for the tests.
var HashToken = hashToken

// SetMaxXLSXRows lowers the XLSX export's limit for a test.
func SetMaxXLSXRows(t interface{ Cleanup(func()) }, n int) {
	maxXLSXRows = n
	t.Cleanup(func() { maxXLSXRows = 0 })
}
