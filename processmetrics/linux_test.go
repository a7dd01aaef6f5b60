//go:build linux

package processmetrics

import (
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func value(mf *dto.MetricFamily) float64 {
	m := mf.GetMetric()[0]
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// TestSameAsClientGolang reads this process with both collectors: the same
// families (name, help, type, no labels), the values that cannot move
// between two reads equal bit for bit, the others within what the
// process can do between them.
func TestSameAsClientGolang(t *testing.T) {
	// Ours keeps two proc files open from its first collection on: both
	// count them once it has collected.
	c := New()
	gather(t, c)
	theirs := gather(t, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{ReportErrors: true}))
	ours := gather(t, c)
	if len(ours) != 9 || len(ours) != len(theirs) {
		t.Fatalf("families: ours %d, client_golang's %d, want 9 each", len(ours), len(theirs))
	}
	for name, want := range theirs {
		got, ok := ours[name]
		switch {
		case !ok:
			t.Errorf("%s: missing", name)
			continue
		case got.GetHelp() != want.GetHelp() || got.GetType() != want.GetType():
			t.Errorf("%s: help %q type %v, want %q %v", name, got.GetHelp(), got.GetType(), want.GetHelp(), want.GetType())
		case len(got.GetMetric()) != 1 || len(got.GetMetric()[0].GetLabel()) != 0:
			t.Errorf("%s: %d series, want one without labels", name, len(got.GetMetric()))
			continue
		}
		g, w := value(got), value(want)
		switch name {
		case "process_start_time_seconds", "process_max_fds", "process_virtual_memory_max_bytes", "process_open_fds":
			if math.Float64bits(g) != math.Float64bits(w) {
				t.Errorf("%s = %v, want %v", name, g, w)
			}
		case "process_cpu_seconds_total", "process_network_receive_bytes_total", "process_network_transmit_bytes_total":
			// Counters read after client_golang's: never smaller.
			if g < w || (name == "process_cpu_seconds_total" && g > w+1) {
				t.Errorf("%s = %v, client_golang's read just before %v", name, g, w)
			}
		default: // memory of a running Go process: same order of magnitude
			if g <= 0 || g < w/2 || g > w*2 {
				t.Errorf("%s = %v, client_golang's %v", name, g, w)
			}
		}
	}
}

func TestPedanticAndLint(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New())
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(New())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		// client_golang's names: process_virtual_memory_max_bytes and the
		// others are what every exporter serves.
		if !strings.HasPrefix(p.Metric, "process_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestStartTimeComputedOnce(t *testing.T) {
	c := &Collector{}
	gather(t, c)
	if !c.started {
		t.Fatal("the start time was not computed")
	}
	first := c.start
	gather(t, c)
	if c.start != first {
		t.Errorf("start time changed: %v then %v", first, c.start)
	}
}

func TestReadFileGrows(t *testing.T) {
	// A buffer smaller than the file is grown, not truncated.
	small := make([]byte, 0, 1)
	data, err := readFile("/proc/self/stat", small)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseStat(data); err != nil {
		t.Errorf("%v in %q", err, data)
	}
	if _, err := readFile("/proc/self/no-such-file", small); err == nil {
		t.Error("no error for a missing file")
	}
}

// BenchmarkCollect compares one collection with client_golang's.
func BenchmarkCollect(b *testing.B) {
	for _, bc := range []struct {
		name string
		c    prometheus.Collector
	}{
		{"processmetrics", New()},
		{"client_golang", collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ch := make(chan prometheus.Metric, 16)
			b.ReportAllocs()
			for b.Loop() {
				bc.c.Collect(ch)
				for len(ch) > 0 {
					<-ch
				}
			}
		})
	}
}

// TestProcFileCurrent: a kept-open proc file read again returns the
// current content, not the text of the first read.
func TestProcFileCurrent(t *testing.T) {
	var f procFile
	first, err := f.read("/proc/self/stat", nil)
	if err != nil {
		t.Fatal(err)
	}
	st1, err := parseStat(first)
	if err != nil {
		t.Fatal(err)
	}
	fd := f.fd
	// Burn CPU until utime+stime moves (a tick is 10 ms).
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := f.read("/proc/self/stat", make([]byte, 0, 16))
		if err != nil {
			t.Fatal(err)
		}
		st2, err := parseStat(data)
		if err != nil {
			t.Fatalf("%v in %q", err, data)
		}
		if f.fd != fd {
			t.Fatalf("reopened: fd %d, then %d", fd, f.fd)
		}
		if st2.utime+st2.stime > st1.utime+st1.stime {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("CPU time read through the kept-open file never changed")
		}
		for i := 0; i < 1e6; i++ {
			_ = fmt.Sprint(i)
		}
	}
	// A closed descriptor (EBADF) is opened again.
	syscall.Close(f.fd)
	if data, err := f.read("/proc/self/stat", nil); err != nil {
		t.Fatalf("after the fd was closed: %v", err)
	} else if _, err := parseStat(data); err != nil {
		t.Fatal(err)
	}
}
