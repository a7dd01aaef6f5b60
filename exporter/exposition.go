package exporter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"hash/maphash"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// This file serves a scrape's metrics. client_golang's path (Gather into
// dto families, check, sort, encode every series, gzip at the default
// level) cost more CPU than everything else of a scrape together, and most
// of a scrape's series are the same objects as in the previous scrape (the
// collectors keep per-user and per-setting series). So the text format is
// written per metric family, and a family whose metrics are the very same
// objects as in the previous scrape, in the same order, is served from the
// bytes encoded then. Families are encoded with expfmt itself, so the output
// is byte for byte what promhttp writes. Anything the fast path cannot vouch
// for (another format than text, a metric that fails to Write, a Desc the
// target does not describe, a duplicate series, a name clash with the extra
// gatherer) is served by promhttp as before, with its error handling.

// exposition is a target's cache of encoded metric families. Concurrent
// requests sharing one scrape encode one after the other.
type exposition struct {
	mu sync.Mutex
	// described holds every Desc the target's Describe sends (nil until
	// the first request).
	described map[*prometheus.Desc]bool
	// self is the SelfMetrics whose Descs described holds too.
	self *SelfMetrics
	// families is keyed by Desc: a Desc belongs to one family. Families
	// are looked up by Desc, whose name is learnt once.
	byDesc   map[*prometheus.Desc]*family
	byName   map[string]*family
	gathered int // the scrape generation, to find families absent from a scrape
	// recent caches byDesc for the few Descs a thousand users' series
	// cycle through (a map lookup per series was a tenth of such a
	// request).
	recent [16]struct {
		d *prometheus.Desc
		f *family
	}
}

type family struct {
	name string
	help string
	// prev are the metrics encoded is made of; cur collects this scrape's.
	prev, cur []prometheus.Metric
	first     prometheus.Metric // cur[0] of the previous scrape
	// digest is a keyed hash of prev's series and values, sorted: a
	// family of new metric objects with the same series and values is
	// not encoded again. (A digest, not the samples: a pooled target
	// keeps 8 bytes instead of a dto.Metric per series.)
	digest  uint64
	encoded []byte
	// shared holds encoded when it is the text other targets share (see
	// shareText); a family that changes scrape after scrape (durations)
	// keeps a buffer of its own instead, rewritten in place.
	shared  *sharedText
	changed int // generation (seen) of the last encoding
	typ     dto.MetricType
	// live marks a family of SelfMetrics: their collectors may send the
	// same metric object with a new value (a histogram, a GaugeFunc), so
	// the family is compared by digest only, never by object identity.
	live  bool
	gen   uint64   // counts changes of encoded
	chunk runChunk // compressed run starting with this family
	seen  int      // generation of the last scrape that had this family
}

// errSlowPath means the fast path declines: promhttp serves the request.
var errSlowPath = errors.New("served by promhttp")

// describe learns the target's Descs once, and self's once it is served.
func (x *exposition) describe(t *Target, self *SelfMetrics) {
	if x.described == nil {
		x.described = map[*prometheus.Desc]bool{}
		x.byDesc = map[*prometheus.Desc]*family{}
		x.byName = map[string]*family{}
		ch := make(chan *prometheus.Desc)
		go func() {
			t.Describe(ch)
			close(ch)
		}()
		for d := range ch {
			x.described[d] = true
		}
	}
	if self != nil && self != x.self {
		x.self = self
		for _, d := range self.descs {
			x.described[d] = true
		}
	}
}

// familyOf returns the family of d, learning its name and help from a
// one-metric gather the first time d is seen.
func (x *exposition) familyOf(m prometheus.Metric) (*family, error) {
	d := m.Desc()
	// The Desc's address only picks a slot (unsafe for its bits, never to
	// dereference).
	slot := &x.recent[(uintptr(unsafe.Pointer(d))>>4^uintptr(unsafe.Pointer(d))>>9)%uintptr(len(x.recent))]
	if slot.d == d {
		return slot.f, nil
	}
	if f, ok := x.byDesc[d]; ok {
		slot.d, slot.f = d, f
		return f, nil
	}
	if !x.described[d] {
		return nil, errSlowPath
	}
	var nh [2]string
	if v, ok := descNames.Load(d); ok {
		nh = v.([2]string)
	} else {
		reg := prometheus.NewRegistry()
		if err := reg.Register(single{m}); err != nil {
			return nil, errSlowPath
		}
		mfs, err := reg.Gather()
		if err != nil || len(mfs) != 1 {
			return nil, errSlowPath
		}
		nh = [2]string{mfs[0].GetName(), mfs[0].GetHelp()}
		descNames.Store(d, nh)
	}
	f, ok := x.byName[nh[0]]
	if !ok {
		f = &family{name: nh[0], help: nh[1]}
		x.byName[nh[0]] = f
	} else if f.help != nh[1] {
		return nil, errSlowPath // promhttp reports the inconsistency
	}
	x.byDesc[d] = f
	return f, nil
}

// descNames maps a Desc to its metric name and help, learnt once for every
// target (Descs are package-level and live as long as the exporter).
var descNames sync.Map

// single is a collector of one metric, to learn its family's name.
type single struct{ m prometheus.Metric }

func (s single) Describe(ch chan<- *prometheus.Desc) {} // unchecked
func (s single) Collect(ch chan<- prometheus.Metric) { ch <- s.m }

// encode writes the text exposition of metrics, own (self's metrics) and
// extra's families to buf, reusing the bytes of unchanged families.
func (x *exposition) encode(buf *bytes.Buffer, t *Target, metrics []prometheus.Metric, self *SelfMetrics, own []prometheus.Metric, extra []*dto.MetricFamily) ([]part, error) {
	x.describe(t, self)
	x.gathered++
	gen := x.gathered
	var present []*family
	for k, ms := range [2][]prometheus.Metric{metrics, own} {
		for _, m := range ms {
			f, err := x.familyOf(m)
			if err != nil {
				return nil, err
			}
			f.live = f.live || k == 1
			if f.seen != gen {
				f.seen = gen
				f.cur = f.cur[:0]
				present = append(present, f)
			}
			f.cur = append(f.cur, m)
		}
	}
	slices.SortFunc(present, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	for _, mf := range extra {
		if f, clash := x.byName[mf.GetName()]; clash && f.seen == gen {
			return nil, errSlowPath // promhttp merges or reports the clash
		}
	}
	// A family absent from this scrape keeps its bytes: a scrape that
	// failed must not flush the cache, and there is one family per Desc.
	parts := make([]part, 0, 16)
	// The runs are consecutive stretches of one array: a family is in at
	// most one run, and only the last run grows.
	runs := make([]*family, 0, len(present))
	add := func(start int, f *family) {
		if start == buf.Len() {
			return
		}
		if n := len(parts); n > 0 && (f == nil) == (parts[n-1].run == nil) {
			parts[n-1].end = buf.Len()
			if f != nil {
				runs = append(runs, f)
				parts[n-1].run = parts[n-1].run[:len(parts[n-1].run)+1]
			}
			return
		}
		p := part{start: start, end: buf.Len()}
		if f != nil {
			runs = append(runs, f)
			p.run = runs[len(runs)-1:]
		}
		parts = append(parts, p)
	}
	i, j := 0, 0
	for i < len(present) || j < len(extra) {
		start := buf.Len()
		if j == len(extra) || (i < len(present) && present[i].name < extra[j].GetName()) {
			reused, err := present[i].write(buf)
			if err != nil {
				return nil, err
			}
			if reused {
				add(start, present[i])
			} else {
				add(start, nil)
			}
			i++
			continue
		}
		if len(extra[j].Metric) > 0 {
			if _, err := expfmt.MetricFamilyToText(buf, extra[j]); err != nil {
				return nil, errSlowPath
			}
			add(start, nil)
		}
		j++
	}
	return mergeShortRuns(parts), nil
}

// minReusedRun is the shortest run of reused text kept as a chunk of its
// own. Every chunk ends in a flush and starts a new Huffman block: a run
// of a few unchanged lines between changed ones (go_memstats between two
// GCs) costs more to splice in than to compress again with its neighbours,
// and compresses worse alone.
const minReusedRun = 2 << 10

// mergeShortRuns folds reused runs shorter than minReusedRun into the new
// text around them.
func mergeShortRuns(parts []part) []part {
	out := parts[:0]
	for _, p := range parts {
		if p.run != nil && p.end-p.start < minReusedRun {
			p.run = nil
		}
		if n := len(out); n > 0 && p.run == nil && out[n-1].run == nil {
			out[n-1].end = p.end
			continue
		}
		out = append(out, p)
	}
	return out
}

// part is a stretch of the text: a run of families whose bytes were
// reused, whose compressed form can be reused too, or (run nil) text
// encoded this scrape.
type part struct {
	start, end int
	run        []*family
}

// runChunk is the compressed form of a run of reused families, kept on the
// run's first family.
type runChunk struct {
	fams     []*family
	gens     []uint64
	deflated []byte // shared's bytes
	shared   *sharedText
}

// covers reports whether the chunk is the compressed text of the first
// families of run, each as encoded now.
func (c *runChunk) covers(run []*family) bool {
	if len(c.fams) == 0 || len(c.fams) > len(run) {
		return false
	}
	for i, f := range c.fams {
		if run[i] != f || c.gens[i] != f.gen {
			return false
		}
	}
	return true
}

// writeRun appends the compressed text of a run of reused families: the
// chunks kept from earlier scrapes that cover its families, in order, and
// between them the families no kept chunk starts with, compressed now and
// kept as a chunk of their own. A run that grew (families that were new
// last scrape are reused now) is thus served from the chunks it already
// has, instead of being compressed again whole.
func writeRun(out *bytes.Buffer, run []*family, text []byte) {
	n := 0
	for _, f := range run {
		n += len(f.encoded)
	}
	if n != len(text) { // not the families' bytes: never the case
		deflateChunk(out, text)
		return
	}
	for i := 0; i < len(run); {
		if c := &run[i].chunk; c.covers(run[i:]) {
			out.Write(c.deflated)
			for _, f := range c.fams {
				text = text[len(f.encoded):]
			}
			i += len(c.fams)
			continue
		}
		j, n := i+1, len(run[i].encoded)
		for j < len(run) && !run[j].chunk.covers(run[j:]) {
			n += len(run[j].encoded)
			j++
		}
		start := out.Len()
		deflateChunk(out, text[:n])
		c := &run[i].chunk
		c.shared = shareText(out.Bytes()[start:])
		c.fams, c.gens, c.deflated = append(c.fams[:0], run[i:j]...), c.gens[:0], c.shared.b
		for _, f := range run[i:j] {
			c.gens = append(c.gens, f.gen)
		}
		text = text[n:]
		i = j
	}
}

// render encodes the exposition in the given content encoding into out.
// A gzip body is assembled from deflate chunks: the chunk of a run of
// unchanged families is compressed once and reused (each chunk ends with a
// sync flush, so chunks of independent compressors concatenate into one
// valid deflate stream), and only this scrape's new text is compressed.
func (x *exposition) render(out *bytes.Buffer, t *Target, metrics []prometheus.Metric, self *SelfMetrics, own []prometheus.Metric, extra []*dto.MetricFamily, encoding string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	text := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(text)
	text.Reset()
	parts, err := x.encode(text, t, metrics, self, own, extra)
	if err != nil {
		return err
	}
	body := text.Bytes()
	switch encoding {
	case "gzip":
		out.Write(gzipHeader[:])
		for _, p := range parts {
			if p.run == nil {
				deflateChunk(out, body[p.start:p.end])
				continue
			}
			writeRun(out, p.run, body[p.start:p.end])
		}
		out.Write([]byte{0x03, 0x00}) // an empty final block (fixed Huffman)
		var trailer [8]byte
		binary.LittleEndian.PutUint32(trailer[:4], crc32.ChecksumIEEE(body))
		binary.LittleEndian.PutUint32(trailer[4:], uint32(len(body)))
		out.Write(trailer[:])
	case "zstd":
		zw := zstdPool.Get().(*zstd.Encoder)
		out.Write(zw.EncodeAll(body, out.AvailableBuffer()))
		zstdPool.Put(zw)
	default:
		out.Write(body)
	}
	return nil
}

// gzipHeader is RFC 1952's header without a name or time: deflate, no
// flags, unknown OS, as compress/gzip writes it.
var gzipHeader = [10]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

var flatePool = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// deflateChunk appends data compressed as non-final deflate blocks ending
// byte-aligned (a sync flush).
func deflateChunk(out *bytes.Buffer, data []byte) {
	fw := flatePool.Get().(*flate.Writer)
	fw.Reset(out)
	_, _ = fw.Write(data)
	_ = fw.Flush()
	flatePool.Put(fw)
}

// write appends the family's text, encoding it again only when its metrics
// are not the previous scrape's.
func (f *family) write(buf *bytes.Buffer) (reused bool, err error) {
	if f.encoded != nil && !f.live && slices.Equal(f.cur, f.prev) {
		buf.Write(f.encoded)
		f.release()
		return true, nil
	}
	sc := writeScratchPool.Get().(*writeScratch)
	defer sc.release()
	mf := sc.family(f, len(f.cur))
	pbs := sc.pbs
	for i, m := range f.cur {
		if smp, ok := m.(sampler); ok {
			sc.fill(i, smp)
		} else if err := m.Write(&pbs[i]); err != nil {
			return false, errSlowPath
		}
		pb := &pbs[i]
		var t *dto.MetricType
		switch {
		case pb.Gauge != nil:
			t = &metricTypes[dto.MetricType_GAUGE]
		case pb.Counter != nil:
			t = &metricTypes[dto.MetricType_COUNTER]
		case pb.Untyped != nil:
			t = &metricTypes[dto.MetricType_UNTYPED]
		case pb.Summary != nil:
			t = &metricTypes[dto.MetricType_SUMMARY] // go_gc_duration_seconds
		case pb.Histogram != nil:
			t = &metricTypes[dto.MetricType_HISTOGRAM] // the /probe request durations
		default:
			return false, errSlowPath
		}
		if i == 0 {
			mf.Type = t
		} else if *t != *mf.Type {
			return false, errSlowPath
		}
		mf.Metric[i] = pb
	}
	sort.Sort(metricSorter(mf.Metric))
	for i := 1; i < len(mf.Metric); i++ {
		if sameLabels(mf.Metric[i-1], mf.Metric[i]) {
			return false, errSlowPath // a duplicate series: promhttp drops and logs it
		}
	}
	digest := digestOf(mf.Metric)
	if f.encoded != nil && *mf.Type == f.typ && digest == f.digest {
		buf.Write(f.encoded)
		f.keep()
		return true, nil
	}
	start := buf.Len()
	if _, err := expfmt.MetricFamilyToText(buf, mf); err != nil {
		return false, errSlowPath
	}
	text := buf.Bytes()[start:]
	if f.encoded != nil && f.changed == f.seen-1 {
		// Changed in the previous scrape too: not worth sharing.
		if f.shared != nil {
			f.encoded, f.shared = nil, nil // shared bytes are never written
		}
		f.encoded = append(f.encoded[:0], text...)
	} else {
		f.shared = shareText(text)
		f.encoded = f.shared.b
	}
	f.changed = f.seen
	f.digest, f.typ = digest, *mf.Type
	f.keep()
	f.gen++
	return false, nil
}

// metricTypes are the type values a family points to (read only), so that
// no family allocates its type.
var metricTypes = [...]dto.MetricType{
	dto.MetricType_COUNTER: dto.MetricType_COUNTER, dto.MetricType_GAUGE: dto.MetricType_GAUGE,
	dto.MetricType_SUMMARY: dto.MetricType_SUMMARY, dto.MetricType_UNTYPED: dto.MetricType_UNTYPED,
	dto.MetricType_HISTOGRAM: dto.MetricType_HISTOGRAM,
}

// writeScratch is the dto family a family is written into, reused by the
// next family written (by any target): a changed family cost three
// allocations besides its metrics' own, and some forty change each scrape.
type writeScratch struct {
	mf   dto.MetricFamily
	ptrs []*dto.Metric
	pbs  []dto.Metric
	// The values of the samplers' series (see fill).
	gauges   []dto.Gauge
	counters []dto.Counter
	untyped  []dto.Untyped
	values   []float64
}

// sampler is a metric that gives its sample instead of writing it (the
// collectors' memoised series): Write allocates the value's two dto
// objects, and a dozen of them are written each scrape.
type sampler interface {
	Sample() ([]*dto.LabelPair, prometheus.ValueType, float64)
}

// fill sets pbs[i] to s's sample, with values of the scratch's own.
func (sc *writeScratch) fill(i int, s sampler) {
	labels, typ, v := s.Sample()
	pb := &sc.pbs[i]
	pb.Label = labels
	sc.values[i] = v
	switch typ {
	case prometheus.CounterValue:
		c := &sc.counters[i]
		c.Reset()
		c.Value = &sc.values[i]
		pb.Counter = c
	case prometheus.GaugeValue:
		g := &sc.gauges[i]
		g.Reset()
		g.Value = &sc.values[i]
		pb.Gauge = g
	default:
		u := &sc.untyped[i]
		u.Reset()
		u.Value = &sc.values[i]
		pb.Untyped = u
	}
}

var writeScratchPool = sync.Pool{New: func() any { return new(writeScratch) }}

// family returns the scratch's family for n metrics of f.
func (sc *writeScratch) family(f *family, n int) *dto.MetricFamily {
	if cap(sc.pbs) < n {
		sc.pbs, sc.ptrs = make([]dto.Metric, n), make([]*dto.Metric, n)
		sc.gauges, sc.counters, sc.untyped, sc.values = make([]dto.Gauge, n), make([]dto.Counter, n), make([]dto.Untyped, n), make([]float64, n)
	}
	sc.pbs, sc.ptrs = sc.pbs[:n], sc.ptrs[:n]
	sc.gauges, sc.counters, sc.untyped, sc.values = sc.gauges[:n], sc.counters[:n], sc.untyped[:n], sc.values[:n]
	sc.mf.Reset()
	sc.mf.Name, sc.mf.Help, sc.mf.Metric = &f.name, &f.help, sc.ptrs
	return &sc.mf
}

// release empties the scratch (no references to metrics or families stay
// in the pool) and returns it, unless it grew too large to keep.
func (sc *writeScratch) release() {
	for i := range sc.pbs {
		sc.pbs[i].Reset()
	}
	clear(sc.ptrs)
	sc.mf.Reset()
	if cap(sc.pbs) > 1024 {
		return // a thousand users' family: not kept for the default ones
	}
	writeScratchPool.Put(sc)
}

// keep remembers this scrape's metric objects for the next scrape's
// identity check, but only for a family whose objects the collectors keep
// between scrapes (its first object is the previous scrape's): the objects
// of a family built anew every scrape would be kept alive for nothing.
func (f *family) keep() {
	if len(f.cur) > 0 && f.first == f.cur[0] && !f.live {
		f.prev = append(f.prev[:0], f.cur...)
	} else {
		f.prev = f.prev[:0]
	}
	if len(f.cur) > 0 {
		f.first = f.cur[0]
	}
	f.release()
}

// release lets go of this scrape's metrics.
func (f *family) release() {
	clear(f.cur)
	f.cur = f.cur[:0]
}

// digestSeed keys the digests with a per-process random seed, so that no
// one can choose label values that collide.
var digestSeed = maphash.MakeSeed()

// digestOf hashes a sorted family's series: label names and values, value
// bits (NaN equals NaN, 0 differs from -0) and timestamps.
func digestOf(ms []*dto.Metric) uint64 {
	var h maphash.Hash
	h.SetSeed(digestSeed)
	var num [8]byte
	for _, m := range ms {
		for _, lp := range m.Label {
			for _, str := range [2]string{lp.GetName(), lp.GetValue()} {
				binary.LittleEndian.PutUint64(num[:], uint64(len(str)))
				h.Write(num[:])
				h.WriteString(str)
			}
		}
		// What the text format shows of each type: a summary's count, sum
		// and quantiles; a histogram's count, sum and buckets.
		if hg := m.Histogram; hg != nil {
			for _, v := range [3]uint64{hg.GetSampleCount(), math.Float64bits(hg.GetSampleCountFloat()), math.Float64bits(hg.GetSampleSum())} {
				binary.LittleEndian.PutUint64(num[:], v)
				h.Write(num[:])
			}
			for _, b := range hg.Bucket {
				for _, v := range [3]uint64{math.Float64bits(b.GetUpperBound()), b.GetCumulativeCount(), math.Float64bits(b.GetCumulativeCountFloat())} {
					binary.LittleEndian.PutUint64(num[:], v)
					h.Write(num[:])
				}
			}
			binary.LittleEndian.PutUint64(num[:], uint64(len(hg.Bucket)))
		} else if s := m.Summary; s != nil {
			binary.LittleEndian.PutUint64(num[:], s.GetSampleCount())
			h.Write(num[:])
			binary.LittleEndian.PutUint64(num[:], math.Float64bits(s.GetSampleSum()))
			h.Write(num[:])
			for _, q := range s.Quantile {
				binary.LittleEndian.PutUint64(num[:], math.Float64bits(q.GetQuantile()))
				h.Write(num[:])
				binary.LittleEndian.PutUint64(num[:], math.Float64bits(q.GetValue()))
				h.Write(num[:])
			}
			binary.LittleEndian.PutUint64(num[:], uint64(len(s.Quantile)))
		} else {
			binary.LittleEndian.PutUint64(num[:], math.Float64bits(value(m)))
		}
		h.Write(num[:])
		if m.TimestampMs != nil {
			binary.LittleEndian.PutUint64(num[:], uint64(m.GetTimestampMs()))
			h.WriteByte(1)
			h.Write(num[:])
		}
		h.WriteByte('\n')
	}
	return h.Sum64()
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	default:
		return m.Untyped.GetValue()
	}
}

// metricSorter orders a family's metrics as client_golang's Gather does.
type metricSorter []*dto.Metric

func (s metricSorter) Len() int      { return len(s) }
func (s metricSorter) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s metricSorter) Less(i, j int) bool {
	if len(s[i].Label) != len(s[j].Label) {
		return len(s[i].Label) < len(s[j].Label)
	}
	for n, lp := range s[i].Label {
		vi, vj := lp.GetValue(), s[j].Label[n].GetValue()
		if vi != vj {
			return vi < vj
		}
	}
	return false
}

func sameLabels(a, b *dto.Metric) bool {
	if len(a.Label) != len(b.Label) {
		return false
	}
	for n := range a.Label {
		if a.Label[n].GetName() != b.Label[n].GetName() || a.Label[n].GetValue() != b.Label[n].GetValue() {
			return false
		}
	}
	return true
}

// Serve writes a scrape's metrics, plus extra's (the exporter's own process
// and Go metrics; nil on /probe), in the format and encoding the request
// negotiates, as promhttp.HandlerFor with ContinueOnError would.
// formats (nil: none) remembers the negotiated format of its handler's
// requests.
func (t *Target) Serve(w http.ResponseWriter, r *http.Request, metrics []prometheus.Metric, extra prometheus.Gatherer, errorLog promhttp.Logger, formats *FormatCache) {
	h := w.Header()
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	format, text := formats.negotiate(r.Header)
	if text {
		var mfs []*dto.MetricFamily
		var own []prometheus.Metric
		var err error
		self, isSelf := extra.(*SelfMetrics)
		switch {
		case isSelf && self != nil:
			own = self.collect(nil)
		case extra != nil:
			mfs, err = extra.Gather()
		}
		if err == nil {
			out := bufPool.Get().(*bytes.Buffer)
			defer bufPool.Put(out)
			out.Reset()
			encoding := negotiateEncoding(r)
			if err = t.expo.render(out, t, metrics, self, own, mfs, encoding); err == nil {
				h.Set("Content-Type", string(format))
				if encoding != "identity" {
					h.Set("Content-Encoding", encoding)
				}
				h.Set("Content-Length", strconv.Itoa(out.Len()))
				_, _ = w.Write(out.Bytes())
				return
			}
		}
	}
	// The slow path: exactly today's handler, compression aside.
	reg := prometheus.NewRegistry()
	if err := reg.Register(prebuilt{t: t, metrics: metrics}); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	gatherers := prometheus.Gatherers{reg}
	if extra != nil {
		gatherers = append(gatherers, extra)
	}
	h.Del("Vary") // promhttp sets Vary: Accept itself
	h.Add("Vary", "Accept-Encoding")
	cw := newCompressor(w, r)
	defer cw.Close()
	promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{
		ErrorLog:           errorLog,
		ErrorHandling:      promhttp.ContinueOnError,
		DisableCompression: true,
	}).ServeHTTP(cw, r)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// FormatCache remembers the exposition format negotiated for the last
// Accept header a handler saw. A scraper sends the same header on every
// request, and negotiating it anew (expfmt parses the header and each
// offered format) cost 11-19 allocations and 1-2 µs per request. One entry,
// so an odd header costs only its own negotiation. Safe for concurrent use.
type FormatCache struct {
	last atomic.Pointer[negotiatedFormat]
}

type negotiatedFormat struct {
	accept string
	format expfmt.Format
	text   bool // the text format, which the fast path serves
}

// negotiate returns the format for the request's headers, as
// expfmt.NegotiateAccept with the default formats, and whether it is the
// text format. A nil cache negotiates every time.
func (c *FormatCache) negotiate(h http.Header) (expfmt.Format, bool) {
	accept := h.Get("Accept") // all NegotiateAccept reads
	if c != nil {
		if n := c.last.Load(); n != nil && n.accept == accept {
			return n.format, n.text
		}
	}
	f := expfmt.NegotiateAccept(h, expfmt.DefaultAcceptedFormats()...)
	n := &negotiatedFormat{accept: strings.Clone(accept), format: f, text: f.FormatType() == expfmt.TypeTextPlain}
	if c != nil {
		c.last.Store(n)
	}
	return n.format, n.text
}

// prebuilt serves one scrape's metrics, checked against the target's Descs.
type prebuilt struct {
	t       *Target
	metrics []prometheus.Metric
}

func (p prebuilt) Describe(ch chan<- *prometheus.Desc) { p.t.Describe(ch) }
func (p prebuilt) Collect(ch chan<- prometheus.Metric) {
	for _, m := range p.metrics {
		ch <- m
	}
}

// Content encodings. gzip is what Prometheus asks for; its level is
// BestSpeed with klauspost's encoder, several times cheaper than
// compress/gzip's default level for a body about 10% larger. zstd is
// offered to scrapers that prefer it.
var (
	gzipPool = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
		return w
	}}
	zstdPool = sync.Pool{New: func() any {
		w, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithLowerEncoderMem(true), zstd.WithZeroFrames(true))
		return w
	}}
)

// negotiateEncoding picks the response's content encoding from the
// request's Accept-Encoding: the offer with the highest q-value, gzip
// before zstd before identity on a tie, identity when nothing else is
// acceptable (as promhttp does; a 406 would leave Prometheus without
// metrics).
func negotiateEncoding(r *http.Request) string {
	offers := [...]string{"gzip", "zstd", "identity"}
	q := [len(offers)]float64{-1, -1, -1}
	for _, header := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(header, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			weight := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0 // malformed: not acceptable
					}
					weight = f
				}
			}
			for i, o := range offers {
				// An explicit coding overrides the wildcard.
				if coding == o || (coding == "*" && q[i] < 0) {
					if coding == o || weight > q[i] {
						q[i] = weight
					}
				}
			}
		}
	}
	best, bestQ := "identity", 0.0
	for i, o := range offers {
		if q[i] > bestQ {
			best, bestQ = o, q[i]
		}
	}
	return best
}

// compressor is the response writer of the negotiated encoding. It sets
// Content-Encoding when the status is written, so that an error page that
// http.Error writes (which clears some headers) is encoded and labelled
// consistently.
type compressor struct {
	http.ResponseWriter
	encoding string
	w        io.Writer
	close    func()
	wrote    bool
}

func newCompressor(w http.ResponseWriter, r *http.Request) *compressor {
	c := &compressor{ResponseWriter: w, encoding: negotiateEncoding(r)}
	switch c.encoding {
	case "gzip":
		gz := gzipPool.Get().(*gzip.Writer)
		gz.Reset(w)
		c.w, c.close = gz, func() { _ = gz.Close(); gzipPool.Put(gz) }
	case "zstd":
		zw := zstdPool.Get().(*zstd.Encoder)
		zw.Reset(w)
		c.w, c.close = zw, func() { _ = zw.Close(); zw.Reset(nil); zstdPool.Put(zw) }
	default:
		c.w, c.close = w, func() {}
	}
	return c
}

func (c *compressor) WriteHeader(code int) {
	if !c.wrote {
		c.wrote = true
		h := c.Header()
		h.Del("Content-Length")
		if c.encoding != "identity" {
			h.Set("Content-Encoding", c.encoding)
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *compressor) Write(p []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.w.Write(p)
}

// Close flushes the encoder; a response without a body gets no encoder
// output (an empty gzip stream would be invalid after a HEAD or 304).
func (c *compressor) Close() {
	if !c.wrote {
		c.close = func() {}
		if c.encoding == "gzip" || c.encoding == "zstd" {
			// Nothing was written: release the encoder without output.
			c.releaseUnused()
			return
		}
	}
	c.close()
}

func (c *compressor) releaseUnused() {
	switch w := c.w.(type) {
	case *gzip.Writer:
		w.Reset(io.Discard)
		gzipPool.Put(w)
	case *zstd.Encoder:
		w.Reset(nil)
		zstdPool.Put(w)
	}
}
