package collector_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// sampleCommands are the commands of the recorded COMMAND INFO (samples
// README): FLUSHALL is renamed to "" and DEBUG to DEBUG_b7c1 on every server.
var sampleCommands = []string{"FLUSHALL", "CONFIG", "DEBUG", "KEYS", "MODULE", "EVAL"}

// scrapeCommands runs the commands collector over a version's recordings.
func scrapeCommands(t *testing.T, version string) (map[string]float64, error) {
	t.Helper()
	info := readSample(t, version, "info_all")
	srv, err := redisinfo.Parse(info.Value.(string)).Server()
	if err != nil {
		t.Fatal(err)
	}
	c := collector.Commands{Names: sampleCommands, MaxUsers: 100}
	// struct{Scraper} hides FollowUp: the recordings have no DRYRUN answers
	// for these users, so on 7.0+ every user stays pending.
	r := replay(t, struct{ collector.Scraper }{c}, collector.NewState(), collector.Facts{Known: true, Server: srv}, func(call collector.Call) collector.Result {
		switch call.Name {
		case "info":
			return info
		case "acl|list":
			return readSample(t, version, "acl_list")
		case "command|info":
			return readSample(t, version, "command_info")
		case "config|get":
			if version == "redis-6.2" { // one parameter per call; 6.2 has no gates
				return collector.Result{Value: []any{}}
			}
			return readSample(t, version, "config_get_security")
		}
		t.Fatalf("unexpected call %v", call.Args)
		return collector.Result{}
	})
	return scrapeMap(t, c, r)
}

// TestCommandsOnSamples: availability from COMMAND INFO on every version, and
// on 6.2 (no DRYRUN) the permissions evaluated from the recorded users' rules:
// alice -@all +get +set, bob +@all -@dangerous, carol off, default and ops +@all.
func TestCommandsOnSamples(t *testing.T) {
	for _, v := range sampleVersions {
		t.Run(v, func(t *testing.T) {
			got, err := scrapeCommands(t, v)
			if err != nil {
				t.Fatalf("scrape: %v", err)
			}
			want := map[string]float64{
				`command_available{command="FLUSHALL"}`: 0,
				`command_available{command="DEBUG"}`:    0,
				`command_available{command="CONFIG"}`:   1,
				`command_available{command="KEYS"}`:     1,
				`command_available{command="MODULE"}`:   1,
				`command_available{command="EVAL"}`:     1,
			}
			if v == "redis-6.2" {
				for cmd, users := range map[string][]string{
					"FLUSHALL": {}, "DEBUG": {}, "CONFIG": {"default", "ops"}, "KEYS": {"default", "ops"},
					"MODULE": {"default", "ops"}, "EVAL": {"bob", "default", "ops"},
				} {
					for _, u := range []string{"alice", "bob", "default", "ops"} {
						want[fmt.Sprintf(`command_allowed{command=%q,user=%q}`, cmd, u)] = b2f(contains(users, u))
					}
					want[fmt.Sprintf(`command_allowed_users{command=%q}`, cmd)] = float64(len(users))
				}
				want["command_users_not_evaluated"] = 0
			} else {
				// 7.0+: DRYRUN answers come in the follow-up round, which
				// this recording does not have: every user is pending.
				want["command_users_not_evaluated"] = 4
			}
			for k, w := range want {
				if g, ok := got[k]; !ok || g != w {
					t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected %s = %v", k, got[k])
				}
				if strings.Contains(k, `user="carol"`) {
					t.Errorf("disabled user reported: %s", k)
				}
			}
		})
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func metricKey(t testing.TB, m prometheus.Metric) string {
	var pb dtoMetric
	if err := m.Write(&pb.Metric); err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(fqName(m.Desc()), collector.Namespace+"_")
	var labels []string
	for _, l := range pb.Metric.GetLabel() {
		labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(labels)
	if len(labels) == 0 {
		return name
	}
	return name + "{" + strings.Join(labels, ",") + "}"
}

func metricValue(t testing.TB, m prometheus.Metric) float64 {
	var pb dtoMetric
	if err := m.Write(&pb.Metric); err != nil {
		t.Fatal(err)
	}
	if g := pb.Metric.GetGauge(); g != nil {
		return g.GetValue()
	}
	return pb.Metric.GetCounter().GetValue()
}

func fqName(d *prometheus.Desc) string {
	m := fqNameRE.FindStringSubmatch(d.String())
	if m == nil {
		return d.String()
	}
	return m[1]
}

type dtoMetric struct{ Metric dto.Metric }
