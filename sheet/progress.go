package sheet

import (
	"io"
	"os"
	"sync/atomic"
)

// Extent is how far a reader has got through its input, for a progress
// display. Zero fields are unknown.
type Extent struct {
	// BytesRead and TotalBytes: the bytes of a CSV file read so far, and
	// its size (0 for standard input and FIFOs, whose size is unknown).
	BytesRead, TotalBytes int64
	// DeclaredRows is the number of data rows an XLSX worksheet declares
	// in its <dimension> element (the header row aside): an estimate only,
	// since a workbook may declare anything.
	DeclaredRows int
}

// ExtentReader is a Reader that can say how far through its input it is.
// Extent is safe to call from another goroutine than the one calling Next.
type ExtentReader interface {
	Reader
	Extent() Extent
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// regularSize returns the size of r when it is a regular file, and 0
// otherwise (standard input, a pipe, a FIFO).
func regularSize(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return 0
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}
