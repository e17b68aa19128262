// Package importer runs the import pipeline: read the sheet as a stream,
// parse and validate every row in file order (rules), stage the accepted
// changes with COPY and merge them in one transaction (store), and write the
// error report. Import returns a Result; rendering it is the caller's job.
package importer
