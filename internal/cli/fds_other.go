//go:build !unix

package cli

// openStandardFDs does nothing where standard descriptors cannot be closed
// as on Unix.
func openStandardFDs() {}
