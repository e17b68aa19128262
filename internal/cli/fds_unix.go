//go:build unix

package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// openStandardFDs opens /dev/null on standard input, output or error when
// the process was started with one of them closed (ccbulk ... >&-).
// Otherwise the first file or connection ccbulk opens would get that
// number, and the JSON summary meant for standard output would be written
// into it: into a report, or into the database connection.
func openStandardFDs() {
	for fd := 0; fd <= 2; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
			continue
		}
		null, err := unix.Open(os.DevNull, unix.O_RDWR, 0)
		if err != nil {
			continue
		}
		if null != fd {
			_ = unix.Dup2(null, fd)
			_ = unix.Close(null)
		}
	}
}
