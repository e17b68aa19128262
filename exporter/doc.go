// Package exporter writes users out as the template's sheet (CSV or XLSX),
// as much of them as the acting administrator may see, and the empty
// template itself. An export imports back with no change.
package exporter
