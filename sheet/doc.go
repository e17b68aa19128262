// Package sheet reads and writes the tabular files ccbulk exchanges with
// people: CSV in the dialects and encodings spreadsheet programs write, and
// XLSX through excelize's streaming reader and writer. Readers yield one
// Record at a time with its spreadsheet row number, so memory does not grow
// with the file. The package also matches header rows to the template's
// columns and guards cells against running as formulas.
package sheet
