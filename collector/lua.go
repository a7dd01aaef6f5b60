package collector

import (
	"fmt"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
)

var luaPackageExposedDesc = newDesc("lua_package_exposed",
	"1 if Lua scripts can reach the package library, the sandbox escape of CVE-2022-0543 (Debian/Ubuntu builds linking the system Lua).")

// luaProbe is the script of the probe: it reads no key and changes nothing.
// The plain type(package) of the advisories answers an error on a safe
// server (scripts may not read undefined globals), which would add an error
// reply per scrape to the server's counters; rawget reads the global table
// without that protection and answers "nil" or "table".
const luaProbe = "return type(rawget(_G, 'package'))"

// LuaSandbox probes whether Lua scripts can reach the package library
// (CVE-2022-0543). Off by default: it needs +eval for the exporter's user,
// which lets whoever holds the exporter's credentials run any script.
type LuaSandbox struct{}

// Name implements Scraper.
func (LuaSandbox) Name() string { return "lua-sandbox" }

// Help implements Scraper.
func (LuaSandbox) Help() string {
	return "Probe the Lua sandbox for CVE-2022-0543 with EVAL \"return type(rawget(_G, 'package'))\" 0 (needs +eval for the exporter's user; off by default)."
}

// Plan implements Scraper.
func (LuaSandbox) Plan(p *Plan) { p.Command("EVAL", luaProbe, "0") }

// Describe implements Scraper.
func (LuaSandbox) Describe(ch chan<- *prometheus.Desc) { ch <- luaPackageExposedDesc }

// Scrape implements Scraper.
func (LuaSandbox) Scrape(r *Replies, send Send, _ log.Logger) error {
	e := r.emitter(send)
	v, err := r.Command("EVAL", luaProbe, "0")
	if err != nil {
		return err
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("EVAL: unexpected reply type %T", v)
	}
	switch s {
	case "table":
		e.gauge(luaPackageExposedDesc, 1)
	case "nil":
		e.gauge(luaPackageExposedDesc, 0)
	default:
		return fmt.Errorf("EVAL type(package): unexpected answer %q", s)
	}
	return nil
}
