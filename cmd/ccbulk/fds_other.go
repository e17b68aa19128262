//go:build !unix

package main

// openStandardFDs does nothing where standard descriptors cannot be closed
// as on Unix.
func openStandardFDs() {}
