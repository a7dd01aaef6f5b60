//go:build linux

package processmetrics

import (
	"errors"
	"os"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// userHZ is the unit of /proc/<pid>/stat's times: USER_HZ is 100 on every
// Linux architecture Go supports, and procfs (hence client_golang) assumes
// it too.
const userHZ = 100

// Collector is the exporter's process collector on Linux.
type Collector struct {
	// start is the process's start time, computed once it could be read.
	startMu sync.Mutex
	start   float64
	started bool
	// The files read on every scrape stay open: see procFile.
	stat, netstat procFile
}

// New returns the process collector of the running process.
func New() prometheus.Collector { return &Collector{} }

// Describe sends the nine Descs client_golang's process collector sends.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cpuDesc, openFDsDesc, maxFDsDesc, vsizeDesc, maxVsizeDesc, rssDesc, startTimeDesc, receiveDesc, transmitDesc} {
		ch <- d
	}
}

// Collect reads the process's figures. As client_golang's collector with its
// default options, a figure that cannot be read is left out, silently: the
// process metrics are a mix-in, and must not fail a scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)

	data, err := c.stat.read("/proc/self/stat", *bp)
	*bp = data[:0]
	if err == nil {
		if st, err := parseStat(data); err == nil {
			ch <- prometheus.MustNewConstMetric(cpuDesc, prometheus.CounterValue, float64(st.utime+st.stime)/userHZ)
			ch <- prometheus.MustNewConstMetric(vsizeDesc, prometheus.GaugeValue, float64(st.vsize))
			ch <- prometheus.MustNewConstMetric(rssDesc, prometheus.GaugeValue, float64(st.rss*int64(os.Getpagesize())))
			if start, ok := c.startTime(st.starttime, bp); ok {
				ch <- prometheus.MustNewConstMetric(startTimeDesc, prometheus.GaugeValue, start)
			}
		}
	}

	if n, err := openFDs(); err == nil {
		ch <- prometheus.MustNewConstMetric(openFDsDesc, prometheus.GaugeValue, float64(n))
	}

	// getrlimit returns the soft limits /proc/self/limits lists (RLIM_INFINITY
	// is its "unlimited", 2^64-1, as procfs reads it).
	var nofile, as syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile) == nil && syscall.Getrlimit(syscall.RLIMIT_AS, &as) == nil {
		ch <- prometheus.MustNewConstMetric(maxFDsDesc, prometheus.GaugeValue, float64(nofile.Cur))
		ch <- prometheus.MustNewConstMetric(maxVsizeDesc, prometheus.GaugeValue, float64(as.Cur))
	}

	data, err = c.netstat.read("/proc/self/net/netstat", *bp)
	*bp = data[:0]
	if err == nil {
		if in, out, err := parseNetstat(data); err == nil {
			ch <- prometheus.MustNewConstMetric(receiveDesc, prometheus.CounterValue, in)
			ch <- prometheus.MustNewConstMetric(transmitDesc, prometheus.CounterValue, out)
		}
	}
}

// startTime is the boot time plus the process's start in ticks after it.
// Neither changes while the process runs, so /proc/stat (which grows with
// the number of CPUs) is read until it has been read once.
func (c *Collector) startTime(ticks uint64, bp *[]byte) (float64, bool) {
	c.startMu.Lock()
	defer c.startMu.Unlock()
	if c.started {
		return c.start, true
	}
	data, err := readFile("/proc/stat", *bp)
	*bp = data[:0]
	if err != nil {
		return 0, false
	}
	boot, err := parseBootTime(data)
	if err != nil {
		return 0, false
	}
	// The same expression as procfs's, so that the value is bit for bit
	// client_golang's.
	c.start, c.started = float64(boot)+(float64(ticks)/userHZ), true
	return c.start, true
}

// openFDs counts the process's open file descriptors as procfs does: the
// size of /proc/self/fd where the kernel reports it (Linux 6.2 and later),
// else its entries (the directory's own descriptor included).
func openFDs() (int64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/fd", &st); err != nil {
		return 0, err
	}
	if st.Size > 0 {
		return st.Size, nil
	}
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	return int64(len(names)), err
}

// bufPool holds the buffers files are read into: /proc/self/net/netstat is
// a few KiB, read on every scrape.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 8<<10)
	return &b
}}

// procFile is a proc file read on every scrape, kept open and read from
// offset 0 each time: the kernel regenerates a seq_file's text on a read
// from 0, so the content is current, and an open file saves the open and
// close and the kernel's buffer growth, which for /proc/self/net/netstat
// (larger than the first page seq_file tries) generates the whole text
// twice per open.
type procFile struct {
	mu   sync.Mutex
	fd   int
	open bool
}

// read returns the file's current content in buf. A read that fails closes
// the file; it is opened again once.
func (f *procFile) read(path string, buf []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !f.open {
			fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				return buf[:0], err
			}
			f.fd, f.open = fd, true
		}
		data, err := readAll(f.fd, buf, true)
		if err == nil || attempt > 0 {
			return data, err
		}
		syscall.Close(f.fd)
		f.open = false
	}
}

// readFile reads a (proc) file whole into buf, growing it when needed.
// procfs files report no size, so it reads until end of file.
func readFile(path string, buf []byte) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return buf[:0], err
	}
	defer syscall.Close(fd)
	return readAll(fd, buf, false)
}

// readAll reads fd to its end into buf, growing it when needed; with pread
// from offset 0 rather than from the file's position.
func readAll(fd int, buf []byte, pread bool) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		var n int
		var err error
		if pread {
			n, err = syscall.Pread(fd, buf[len(buf):cap(buf)], int64(len(buf)))
		} else {
			n, err = syscall.Read(fd, buf[len(buf):cap(buf)])
		}
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return buf[:0], err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
