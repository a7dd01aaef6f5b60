// Package dashboards holds the Grafana dashboards of redis_security_exporter
// (redis-security-fleet.json, redis-security-instance.json) and a
// file-provisioning example (provisioning/). It has no code: its tests lint
// the dashboards and check that every metric they query is one the exporter
// emits.
package dashboards
