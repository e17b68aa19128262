// Package mapping reads mapping profiles: YAML files that say how another
// system's user export maps onto the template's columns (header aliases,
// value maps, one source column fanned out to several template columns,
// constants, columns to ignore). Parse checks a file completely before any
// row is read and reports every mistake with its line. Profile.Match turns
// a sheet's header row into a sheet.Layout whose RowMapping produces the
// template cells of each row, so the importer streams rows through the
// mapping exactly as it streams them without one. The built-in profiles
// (webex, 8x8) are embedded YAML files; docs/MAPPING.md documents the format
// and docs/mapping.schema.json is its JSON Schema.
package mapping
