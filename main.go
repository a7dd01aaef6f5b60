// Command redis_security_exporter exports the security posture and security
// events of Redis and Valkey servers for Prometheus.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	"github.com/redis/go-redis/v9"
	sloggokit "github.com/tjhop/slog-gokit"

	"github.com/redis-security/redis_security_exporter/check"
	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/offline"
	rseconfig "github.com/redis-security/redis_security_exporter/config"
	"github.com/redis-security/redis_security_exporter/exporter"
	"github.com/redis-security/redis_security_exporter/probe"
	"github.com/redis-security/redis_security_exporter/processmetrics"
)

const programName = "redis_security_exporter"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr, os.Getenv))
}

// config is everything the command line and environment decide.
type config struct {
	addr          string
	user          string
	passwordFile  string
	telemetryPath string
	logLevel      string
	logFormat     string
	scrapeTimeout string
	timeoutOffset string
	// scrapeTimeoutD and timeoutOffsetD are the parsed durations.
	scrapeTimeoutD time.Duration
	timeoutOffsetD time.Duration
	collect        map[string]*bool
	options        collector.Options
	// checkTargets, checkOutput and checkFailOn are the check command's.
	checkTargets []string
	checkOutput  string
	checkFailOn  string
	// checkRedisConf, checkACLFile and checkServerVersion are the offline
	// audit's inputs (check --redis.conf).
	checkRedisConf, checkACLFile, checkServerVersion string
	commandList                                      string
	web                                              *web.FlagConfig
	// weakPasswordsFile and bundledWeakPasswords choose the lists of
	// acl_user_weak_password.
	weakPasswordsFile    string
	bundledWeakPasswords *bool
	// TLS to the server, and the certificate probe.
	tls               exporter.TLSOptions
	tlsMinVersion     string
	tlsInsecure       *bool
	tlsProbe          *bool
	tlsProbeInterval  string
	tlsProbeIntervalD time.Duration
	aclListMaxAgeS    string
	aclListMaxAge     time.Duration
	// Multi-target mode: --config.file and the /probe limits.
	configFile         string
	configCheck        bool
	probeMaxConcurrent int
	probeIdleTimeout   string
	probeIdleTimeoutD  time.Duration
	probeMaxTargets    int
	// checkModule is check's --module.
	checkModule string

	// vulnFile is --vuln.file; vulnSource says where options.Vulnerabilities
	// came from (embedded or file).
	vulnFile   string
	vulnSource string
}

// defaultAddr is --redis.addr's default when no --config.file is given.
const defaultAddr = "redis://localhost:6379"

// newApp declares the flags. Every flag can also be set from an environment
// variable (REDIS_ADDR, REDIS_USER, REDIS_PASSWORD_FILE, the rest
// REDIS_SECURITY_EXPORTER_<FLAG>).
func newApp(cfg *config) *kingpin.Application {
	app := kingpin.New(programName, "Prometheus exporter for the security posture and security events of Redis and Valkey.")
	app.Version(version.Print(programName))
	app.HelpFlag.Short('h')
	app.Flag("redis.addr", "Redis/Valkey address served on --web.telemetry-path: host:port, redis://host:port, rediss://host:port or unix:///path/to/socket. Default "+defaultAddr+"; with --config.file, none unless set (the telemetry path then serves the exporter's own metrics, and targets are scraped through /probe).").
		Envar("REDIS_ADDR").StringVar(&cfg.addr)
	app.Flag("redis.user", "ACL user to authenticate as (see the README for the least-privileged user).").
		Envar("REDIS_USER").StringVar(&cfg.user)
	app.Flag("redis.password-file", "File holding the password, re-read for every new connection. The REDIS_PASSWORD environment variable is the alternative; there is no password flag because flags show in ps.").
		Envar("REDIS_PASSWORD_FILE").StringVar(&cfg.passwordFile)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").
		Envar("REDIS_SECURITY_EXPORTER_WEB_TELEMETRY_PATH").Default("/metrics").StringVar(&cfg.telemetryPath)
	app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").
		Envar("REDIS_SECURITY_EXPORTER_LOG_LEVEL").Default("info").StringVar(&cfg.logLevel)
	app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").
		Envar("REDIS_SECURITY_EXPORTER_LOG_FORMAT").Default("logfmt").StringVar(&cfg.logFormat)
	app.Flag("scrape.timeout", "Scrape deadline when the request carries no X-Prometheus-Scrape-Timeout-Seconds header.").
		Envar("REDIS_SECURITY_EXPORTER_SCRAPE_TIMEOUT").Default("10s").StringVar(&cfg.scrapeTimeout)
	app.Flag("scrape.timeout-offset", "Time subtracted from Prometheus's scrape timeout, so the reply arrives before Prometheus gives up.").
		Envar("REDIS_SECURITY_EXPORTER_SCRAPE_TIMEOUT_OFFSET").Default("500ms").StringVar(&cfg.timeoutOffset)

	cfg.options = collector.DefaultOptions()
	app.Flag("acllog.top-sources", "How many client addresses redis_security_acl_log_source_events reports per reason.").
		Envar("REDIS_SECURITY_EXPORTER_ACLLOG_TOP_SOURCES").Default(strconv.Itoa(cfg.options.ACLLogTopSources)).SetValue(&intValue{flag: "acllog.top-sources", value: &cfg.options.ACLLogTopSources})

	app.Flag("commands.list", "Comma-separated dangerous commands whose availability and per-user permission the commands collector reports.").
		Envar("REDIS_SECURITY_EXPORTER_COMMANDS_LIST").Default(strings.Join(cfg.options.DangerousCommands, ",")).StringVar(&cfg.commandList)
	app.Flag("commands.max-users", "Evaluate the command permissions of at most this many enabled ACL users (in name order); the rest are counted in redis_security_command_users_not_evaluated.").
		Envar("REDIS_SECURITY_EXPORTER_COMMANDS_MAX_USERS").Default(strconv.Itoa(cfg.options.MaxUsers)).SetValue(&intValue{flag: "commands.max-users", value: &cfg.options.MaxUsers})
	app.Flag("acl.weak-passwords-file", "File of weak passwords to flag in redis_security_acl_user_weak_password, added to the bundled list: one a line, a 64-character hex SHA-256 hash or a plaintext password; '#' comments and blank lines ignored. Read once at start-up.").
		Envar("REDIS_SECURITY_EXPORTER_ACL_WEAK_PASSWORDS_FILE").StringVar(&cfg.weakPasswordsFile)
	bundled := &boolValue{flag: "acl.bundled-weak-passwords"}
	app.Flag("acl.bundled-weak-passwords", "Check ACL users' passwords against the bundled list of Redis and vendor defaults and common passwords (--no-acl.bundled-weak-passwords: only --acl.weak-passwords-file, or no check without it).").
		Envar("REDIS_SECURITY_EXPORTER_ACL_BUNDLED_WEAK_PASSWORDS").Default("true").SetValue(bundled)
	cfg.bundledWeakPasswords = &bundled.value

	app.Flag("clients.max", "Skip CLIENT LIST (which blocks the server for about 1.2 ms per 1000 clients) when the previous scrape saw more connected clients; 0 = no limit.").
		Envar("REDIS_SECURITY_EXPORTER_CLIENTS_MAX").Default(strconv.Itoa(cfg.options.ClientsMax)).SetValue(&intValue{flag: "clients.max", value: &cfg.options.ClientsMax})
	app.Flag("clients.every-n-scrapes", "Read CLIENT LIST only every n-th scrape and report the last counts in between.").
		Envar("REDIS_SECURITY_EXPORTER_CLIENTS_EVERY_N_SCRAPES").Default(strconv.Itoa(cfg.options.ClientsEveryN)).SetValue(&intValue{flag: "clients.every-n-scrapes", value: &cfg.options.ClientsEveryN})

	app.Flag("acl.list-max-age", "Reuse the last ACL LIST reply (of 64+ users) and CONFIG GET reply this long while INFO commandstats counts no ACL SETUSER, ACL DELUSER, ACL LOAD or CONFIG SET and the server did not restart (Redis 7.0+, Valkey; a counted change re-reads them in the same scrape); 0 reads both every scrape.").
		Envar("REDIS_SECURITY_EXPORTER_ACL_LIST_MAX_AGE").Default(exporter.DefaultACLListMaxAge.String()).StringVar(&cfg.aclListMaxAgeS)

	app.Flag("tls.ca-file", "PEM CA certificates that verify the server of a rediss:// address (default: the system's roots). Re-read for every new connection.").
		Envar("REDIS_SECURITY_EXPORTER_TLS_CA_FILE").StringVar(&cfg.tls.CAFile)
	app.Flag("tls.cert-file", "PEM client certificate for servers with tls-auth-clients (with --tls.key-file). Re-read for every new connection; also presented by the certificate probe.").
		Envar("REDIS_SECURITY_EXPORTER_TLS_CERT_FILE").StringVar(&cfg.tls.CertFile)
	app.Flag("tls.key-file", "PEM private key (unencrypted) of --tls.cert-file. Re-read for every new connection.").
		Envar("REDIS_SECURITY_EXPORTER_TLS_KEY_FILE").StringVar(&cfg.tls.KeyFile)
	app.Flag("tls.server-name", "Name the server certificate must carry (and the SNI), when it is not the address's host.").
		Envar("REDIS_SECURITY_EXPORTER_TLS_SERVER_NAME").StringVar(&cfg.tls.ServerName)
	insecure := &boolValue{flag: "tls.insecure-skip-verify"}
	app.Flag("tls.insecure-skip-verify", "Accept any server certificate. Anyone between the exporter and the server can then read its password: for tests only.").
		Envar("REDIS_SECURITY_EXPORTER_TLS_INSECURE_SKIP_VERIFY").Default("false").SetValue(insecure)
	cfg.tlsInsecure = &insecure.value
	app.Flag("tls.min-version", "Lowest TLS version accepted from the server: TLS1.2 or TLS1.3.").
		Envar("REDIS_SECURITY_EXPORTER_TLS_MIN_VERSION").Default("TLS1.2").StringVar(&cfg.tlsMinVersion)
	probe := &boolValue{flag: "tls.probe-certificate"}
	app.Flag("tls.probe-certificate", "For a plaintext address whose server also has a tls-port: read the server's certificate with a TLS handshake to that port of the same host (no data sent), for redis_security_tls_certificate_not_after_timestamp_seconds.").
		Envar("REDIS_SECURITY_EXPORTER_TLS_PROBE_CERTIFICATE").Default("true").SetValue(probe)
	cfg.tlsProbe = &probe.value
	app.Flag("tls.probe-interval", "Reuse a probed certificate this long (a restart of the server probes again at once).").
		Envar("REDIS_SECURITY_EXPORTER_TLS_PROBE_INTERVAL").Default(exporter.DefaultProbeInterval.String()).StringVar(&cfg.tlsProbeInterval)

	app.Flag("vuln.file", "JSON vulnerability table (CVE fixed-in versions and branch end-of-life data, the schema of the embedded collector/internal/vuln/vulnerabilities.json) used instead of the embedded one, so a new advisory needs no new exporter release. Validated at start-up; read once (restart to load a new one). Also used by check and by the modules of --config.file.").
		Envar("REDIS_SECURITY_EXPORTER_VULN_FILE").StringVar(&cfg.vulnFile)
	app.Flag("config.file", "YAML file of modules for the multi-target endpoints /probe and /discover/{cluster,sentinel} (see examples/config.yml). Reloaded on SIGHUP and POST /-/reload.").
		Envar("REDIS_SECURITY_EXPORTER_CONFIG_FILE").StringVar(&cfg.configFile)
	app.Flag("config.check", "Check --config.file (syntax, unknown fields, modules, patterns), and --vuln.file when given, and exit: 0 when valid, 1 when not. Files and environment variables it references are reported when not usable here, without failing.").
		BoolVar(&cfg.configCheck)
	app.Flag("probe.max-concurrent", "Probes and discoveries running at once; further requests wait for a slot until their deadline.").
		Envar("REDIS_SECURITY_EXPORTER_PROBE_MAX_CONCURRENT").Default("100").SetValue(&intValue{flag: "probe.max-concurrent", value: &cfg.probeMaxConcurrent})
	app.Flag("probe.idle-timeout", "Close the pooled connection of a /probe target not probed for this long.").
		Envar("REDIS_SECURITY_EXPORTER_PROBE_IDLE_TIMEOUT").Default("10m").StringVar(&cfg.probeIdleTimeout)
	app.Flag("probe.max-targets", "Pooled /probe targets at most; when full, the least recently probed idle one is closed.").
		Envar("REDIS_SECURITY_EXPORTER_PROBE_MAX_TARGETS").Default("10000").SetValue(&intValue{flag: "probe.max-targets", value: &cfg.probeMaxTargets})

	cfg.collect = map[string]*bool{}
	for _, e := range collector.All(cfg.options) {
		name := e.Scraper.Name()
		v := &boolValue{flag: "collect." + name}
		app.Flag("collect."+name, e.Scraper.Help()).
			Envar("REDIS_SECURITY_EXPORTER_COLLECT_" + envName(name)).
			Default(fmt.Sprint(e.EnabledByDefault)).SetValue(v)
		cfg.collect[name] = &v.value
	}

	app.Command("serve", "Serve the metrics of --redis.addr (the default command).").Default()
	checkCmd := app.Command("check", "Audit the targets once and print the posture checks; exit 0 when nothing at or above --fail-on fails, 1 when something does, 2 when a target could not be audited. Live: give the servers' addresses. Offline (no server, e.g. in CI): --redis.conf FILE [--acl-file FILE] [--server-version VERSION] evaluates the same checks from the files; checks that need a running server are listed as not evaluated.")
	checkCmd.Arg("target", "Redis/Valkey addresses, as --redis.addr (none with --redis.conf alone).").StringsVar(&cfg.checkTargets)
	checkCmd.Flag("redis.conf", "Audit this redis.conf or valkey.conf offline, without a server: include directives are followed, absent directives take the defaults of --server-version, secrets are only hashed in memory and never printed.").PlaceHolder("FILE").StringVar(&cfg.checkRedisConf)
	checkCmd.Flag("acl-file", "With --redis.conf: the ACL file to audit (instead of the path of the configuration's aclfile directive, which is where the server runs).").PlaceHolder("FILE").StringVar(&cfg.checkACLFile)
	checkCmd.Flag("server-version", "With --redis.conf: the server that will run the configuration, 7.2.4 or redis:7.2.4 for Redis, valkey:8.1.1 for Valkey. Decides the defaults and command categories, and enables known_vulnerabilities and version_end_of_life; without it the defaults of "+offline.DefaultVersion+" are assumed and the version checks are not evaluated.").PlaceHolder("VERSION").StringVar(&cfg.checkServerVersion)
	checkCmd.Flag("output", "Report format: text (tables), json ({\"targets\": [...]} with each finding's objects), sarif (SARIF 2.1.0 for code scanning: a rule per check, a result per failing check) or junit (JUnit XML: a testcase per check).").Default("text").StringVar(&cfg.checkOutput)
	checkCmd.Flag("fail-on", "Exit 1 when a check of this severity or above fails: critical, high, medium or low. Exit codes: 0 nothing at or above it fails, 1 something does, 2 a target could not be audited or the flags are invalid.").Default("high").StringVar(&cfg.checkFailOn)
	checkCmd.Flag("module", "Audit through this module of --config.file (its credentials, TLS, collectors and allowed_targets) instead of the --redis.* and --tls.* flags.").StringVar(&cfg.checkModule)

	cfg.web = kingpinflag.AddFlags(app, ":9379")
	for flag, env := range map[string]string{
		"web.listen-address": "REDIS_SECURITY_EXPORTER_WEB_LISTEN_ADDRESS",
		"web.config.file":    "REDIS_SECURITY_EXPORTER_WEB_CONFIG_FILE",
		"web.systemd-socket": "REDIS_SECURITY_EXPORTER_WEB_SYSTEMD_SOCKET",
	} {
		if f := app.GetFlag(flag); f != nil {
			f.Envar(env)
		}
	}
	return app
}

// boolValue is a kingpin bool flag whose parse error names the flag
// (kingpin's own says only "strconv.ParseBool: parsing ...").
type boolValue struct {
	flag  string
	value bool
}

func (b *boolValue) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("--%s: %q is not a boolean (true or false)", b.flag, s)
	}
	b.value = v
	return nil
}

func (b *boolValue) String() string { return strconv.FormatBool(b.value) }

// IsBoolFlag makes kingpin accept --flag and --no-flag without a value.
func (b *boolValue) IsBoolFlag() bool { return true }

// intValue is a kingpin int flag that takes decimal integers only and whose
// parse error names the flag: kingpin's own parses a float and truncates it
// (--clients.max=2.7 is 2, 1e2 is 100) and its errors name no flag.
type intValue struct {
	flag  string
	value *int
}

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return fmt.Errorf("--%s: %q is out of range", v.flag, s)
	case err != nil:
		return fmt.Errorf("--%s: %q is not a whole number", v.flag, s)
	}
	*v.value = n
	return nil
}

func (v *intValue) String() string { return strconv.Itoa(*v.value) }

func envName(flag string) string {
	return strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(flag))
}

// run is main without the process exit, for tests.
func run(args []string, stderr io.Writer, getenv func(string) string) int {
	var cfg config
	app := newApp(&cfg)
	app.ErrorWriter(stderr)
	app.UsageWriter(os.Stdout) // --help and --version go to stdout, as usual
	command, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %v, try --help\n", programName, err)
		return 2
	}
	// Validated here rather than by kingpin, whose messages do not name the flag.
	if err := validateFlags(&cfg); err != nil {
		fmt.Fprintf(stderr, "%s: error: %v, try --help\n", programName, err)
		return 2
	}
	logger, sink, leveler := newLogger(stderr, cfg.logFormat, cfg.logLevel)
	// go-redis logs pool events through a process-wide logger: send them to
	// ours, at debug level (scrape errors are logged with context already).
	redis.SetLogger(goRedisLogger{logger})
	if cfg.configCheck {
		return runConfigCheck(cfg, getenv, os.Stdout, stderr)
	}
	if err := loadVulnerabilityTable(&cfg, logger); err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}
	if command == "check" {
		return runCheck(cfg, logger, getenv, os.Stdout)
	}

	builder, err := newTargets(cfg, logger, getenv)
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}
	var target *exporter.Target
	if cfg.addr != "" {
		if target, err = builder.target(cfg.addr); err != nil {
			level.Error(logger).Log("msg", "invalid configuration", "err", err)
			return 2
		}
		defer target.Close()
	}
	var reloader *probe.Reloader
	if cfg.configFile != "" {
		reloader, err = probe.NewReloader(cfg.configFile, builder.defaults(getenv), probe.Options{
			Handler:       exporter.HandlerOptions{DefaultTimeout: cfg.scrapeTimeoutD, TimeoutOffset: cfg.timeoutOffsetD, Logger: logger},
			MaxConcurrent: cfg.probeMaxConcurrent,
			IdleTimeout:   cfg.probeIdleTimeoutD,
			MaxTargets:    cfg.probeMaxTargets,
			Logger:        logger,
		})
		if err != nil {
			level.Error(logger).Log("msg", "invalid configuration", "err", err)
			return 2
		}
		defer reloader.Prober().Close()
		level.Info(logger).Log("msg", "loaded the config file", "file", cfg.configFile, "modules", strings.Join(probe.ModuleNames(reloader.Prober().Modules()), ","))
		if percent, ok := probeGCPercent(getenv); ok {
			debug.SetGCPercent(percent)
			level.Info(logger).Log("msg", "garbage collector target lowered for pooled /probe targets (set GOGC to choose another)", "gogc", percent)
		}
	}
	return serve(cfg, target, reloader, logger, sink, leveler)
}

// probeGCPercent is the garbage collector's target (GOGC) with
// --config.file, unless the environment sets GOGC. A pooled /probe target's
// RSS is about three times its live heap at Go's default of 100, and about
// twice at 50: 150 instead of 213 KiB per target over BENCHMARKS.md's 200
// targets, for a few percent more CPU per probe (docs/multi-target.md).
// Prometheus itself lowers its GOGC likewise (to 75).
func probeGCPercent(getenv func(string) string) (int, bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	return 50, true
}

// runConfigCheck is --config.check.
func runConfigCheck(cfg config, getenv func(string) string, stdout, stderr io.Writer) int {
	// The table the modules would be served with: an invalid one would
	// stop the exporter's start-up, so it fails the check too.
	if cfg.vulnFile != "" {
		if _, err := collector.LoadVulnerabilityTable(cfg.vulnFile); err != nil {
			fmt.Fprintf(stderr, "%s: error: --vuln.file: %v\n", programName, err)
			return 1
		}
	}
	c, err := rseconfig.Load(cfg.configFile)
	if err == nil {
		var warnings []string
		warnings, err = probe.CheckModules(c, probe.Defaults{Options: cfg.options, Enabled: enabledCollectors(cfg), Getenv: getenv})
		for _, w := range warnings {
			fmt.Fprintf(stderr, "%s: warning: %s\n", programName, w)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %v\n", programName, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: valid, %d module(s): %s\n", cfg.configFile, len(c.Modules), strings.Join(c.ModuleNames(), ", "))
	return 0
}

func enabledCollectors(cfg config) map[string]bool {
	out := map[string]bool{}
	for name, on := range cfg.collect {
		out[name] = *on
	}
	return out
}

// serve runs the HTTP server: the default target (nil: none) on the
// telemetry path, and the multi-target endpoints when a config file is
// loaded (nil: none).
func serve(cfg config, target *exporter.Target, reloader *probe.Reloader, logger, sink log.Logger, leveler slog.Leveler) int {
	if err := checkWebConfig(cfg.web); err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}
	if target != nil {
		level.Info(logger).Log("msg", "starting "+programName, "version", version.Info(), "target", target.Address())
	} else {
		level.Info(logger).Log("msg", "starting "+programName, "version", version.Info(), "target", "none (multi-target: /probe)")
	}
	level.Info(logger).Log("msg", "build context", "build_context", version.BuildContext())

	mux, err := newMux(cfg, target, reloader, logger)
	if err != nil {
		level.Error(logger).Log("msg", "building the HTTP handlers", "err", err)
		return 1
	}
	if reloader != nil {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for range hup {
				_ = reloader.Reload() // logged, and reported by the reload gauge
			}
		}()
	}
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	// exporter-toolkit logs through slog: bridge once to the go-kit logger.
	slogger := slog.New(sloggokit.NewGoKitHandler(sink, leveler))
	if err := web.ListenAndServe(server, cfg.web, slogger); err != nil && !errors.Is(err, http.ErrServerClosed) {
		level.Error(logger).Log("msg", "HTTP server stopped", "err", err)
		return 1
	}
	return 0
}

// goRedisLogger adapts go-redis's internal logging to go-kit.
type goRedisLogger struct{ logger log.Logger }

func (l goRedisLogger) Printf(_ context.Context, format string, v ...any) {
	level.Debug(l.logger).Log("component", "go-redis", "msg", fmt.Sprintf(format, v...))
}

// validateFlags checks the flags whose values kingpin takes as strings.
func validateFlags(cfg *config) error {
	names, err := parseCommandList(cfg.commandList)
	if err != nil {
		return err
	}
	cfg.options.DangerousCommands = names
	if cfg.options.MaxUsers < 0 {
		return fmt.Errorf("--commands.max-users %d: want 0 or more", cfg.options.MaxUsers)
	}
	if cfg.options.ACLLogTopSources < 0 {
		return fmt.Errorf("--acllog.top-sources %d: want 0 or more", cfg.options.ACLLogTopSources)
	}
	if !oneOf(cfg.logLevel, "debug", "info", "warn", "error") {
		return fmt.Errorf("--log.level %q: want one of debug, info, warn, error", cfg.logLevel)
	}
	if !oneOf(cfg.logFormat, "logfmt", "json") {
		return fmt.Errorf("--log.format %q: want logfmt or json", cfg.logFormat)
	}
	if cfg.scrapeTimeoutD, err = time.ParseDuration(cfg.scrapeTimeout); err != nil || cfg.scrapeTimeoutD <= 0 {
		return fmt.Errorf("--scrape.timeout %q: want a positive duration such as 10s", cfg.scrapeTimeout)
	}
	if cfg.timeoutOffsetD, err = time.ParseDuration(cfg.timeoutOffset); err != nil || cfg.timeoutOffsetD < 0 {
		return fmt.Errorf("--scrape.timeout-offset %q: want a duration such as 500ms", cfg.timeoutOffset)
	}
	if cfg.options.ClientsMax < 0 {
		return fmt.Errorf("--clients.max %d: want 0 (no limit) or more", cfg.options.ClientsMax)
	}
	if cfg.aclListMaxAge, err = time.ParseDuration(cfg.aclListMaxAgeS); err != nil || cfg.aclListMaxAge < 0 {
		return fmt.Errorf("--acl.list-max-age %q: want 0 (every scrape) or a positive duration such as 5m", cfg.aclListMaxAgeS)
	}
	if cfg.options.ClientsEveryN < 1 {
		return fmt.Errorf("--clients.every-n-scrapes %d: want 1 or more", cfg.options.ClientsEveryN)
	}
	if cfg.tls.MinVersion, err = exporter.ParseTLSVersion(cfg.tlsMinVersion); err != nil {
		return fmt.Errorf("--tls.min-version: %w", err)
	}
	if cfg.tlsProbeIntervalD, err = time.ParseDuration(cfg.tlsProbeInterval); err != nil || cfg.tlsProbeIntervalD <= 0 {
		return fmt.Errorf("--tls.probe-interval %q: want a positive duration such as 10m", cfg.tlsProbeInterval)
	}
	cfg.tls.InsecureSkipVerify = *cfg.tlsInsecure
	if cfg.probeMaxConcurrent < 1 {
		return fmt.Errorf("--probe.max-concurrent %d: want 1 or more", cfg.probeMaxConcurrent)
	}
	if cfg.probeMaxTargets < 1 {
		return fmt.Errorf("--probe.max-targets %d: want 1 or more", cfg.probeMaxTargets)
	}
	if cfg.probeIdleTimeoutD, err = time.ParseDuration(cfg.probeIdleTimeout); err != nil || cfg.probeIdleTimeoutD <= 0 {
		return fmt.Errorf("--probe.idle-timeout %q: want a positive duration such as 10m", cfg.probeIdleTimeout)
	}
	if err := checkTelemetryPath(cfg.telemetryPath); err != nil {
		return err
	}
	if cfg.configCheck && cfg.configFile == "" {
		return errors.New("--config.check needs --config.file")
	}
	if cfg.checkModule != "" && cfg.configFile == "" {
		return errors.New("check --module needs --config.file")
	}
	if cfg.addr == "" && cfg.configFile == "" {
		cfg.addr = defaultAddr
	}
	return nil
}

// The exporter's own endpoints (newMux), which --web.telemetry-path must
// not take: the mux would panic on the duplicate.
const (
	healthyPath          = "/-/healthy"
	reloadPath           = "/-/reload"
	probePath            = "/probe"
	discoverClusterPath  = "/discover/cluster"
	discoverSentinelPath = "/discover/sentinel"
)

var reservedPaths = []string{healthyPath, reloadPath, probePath, discoverClusterPath, discoverSentinelPath}

// checkTelemetryPath refuses a --web.telemetry-path that http.ServeMux would
// panic on or read as more than a path: wildcards ({name}), a method or host
// (a space), control characters, or one of the exporter's own endpoints.
func checkTelemetryPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("--web.telemetry-path %q must start with /", p)
	}
	if i := strings.IndexFunc(p, func(r rune) bool { return r == '{' || r == '}' || r <= ' ' || r == 0x7f }); i >= 0 {
		return fmt.Errorf("--web.telemetry-path %q: a path without spaces, control characters, { or }", p)
	}
	if slices.Contains(reservedPaths, p) {
		return fmt.Errorf("--web.telemetry-path %q is one of the exporter's own endpoints (%s)", p, strings.Join(reservedPaths, ", "))
	}
	return muxAccepts(p)
}

// muxAccepts registers p on a scratch mux beside the exporter's own
// endpoints: whatever else ServeMux refuses (it panics), a clash spelt with
// escapes (/%70robe) among it, is a start-up error, not a crash.
func muxAccepts(p string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("--web.telemetry-path %q: %v", p, r)
		}
	}()
	mux := http.NewServeMux()
	for _, r := range reservedPaths {
		mux.Handle(r, http.NotFoundHandler())
	}
	mux.Handle(p, http.NotFoundHandler())
	return nil
}

// parseCommandList parses --commands.list: command names (letters, digits,
// '_' and '-'), upper-cased, without duplicates.
func parseCommandList(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		name := strings.ToUpper(strings.TrimSpace(f))
		if name == "" {
			continue
		}
		for _, r := range name {
			if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				return nil, fmt.Errorf("--commands.list: %q is not a command name", f)
			}
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--commands.list is empty")
	}
	return out, nil
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// runCheck is the check command: a one-shot audit of every target, with the
// flags the exporter serves with; package check runs it and writes the report.
func runCheck(cfg config, logger log.Logger, getenv func(string) string, stdout io.Writer) int {
	failOn, ok := collector.ParseSeverity(cfg.checkFailOn)
	if !ok {
		level.Error(logger).Log("msg", "invalid configuration", "err", fmt.Sprintf("--fail-on %q: want critical, high, medium or low", cfg.checkFailOn))
		return 2
	}
	if !check.ValidFormat(cfg.checkOutput) {
		level.Error(logger).Log("msg", "invalid configuration", "err", fmt.Sprintf("--output %q: want %s", cfg.checkOutput, strings.Join(check.Formats, ", ")))
		return 2
	}
	if err := validateCheckInputs(cfg); err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}
	builder, err := newTargets(cfg, logger, getenv)
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 2
	}
	newTarget := func(_ context.Context, addr string) (*exporter.Target, error) { return builder.target(addr) }
	if cfg.checkModule != "" {
		module, err := loadModule(cfg, builder.defaults(getenv))
		if err != nil {
			level.Error(logger).Log("msg", "invalid configuration", "err", err)
			return 2
		}
		newTarget = func(ctx context.Context, addr string) (*exporter.Target, error) {
			return module.NewTarget(ctx, addr, nil, logger)
		}
	}
	report, err := check.RunLive(cfg.checkTargets, cfg.scrapeTimeoutD, newTarget)
	if err != nil {
		level.Error(logger).Log("msg", "cannot audit the target", "err", err)
		return 2
	}
	if cfg.checkRedisConf != "" {
		report.Targets = append(report.Targets, offline.Audit(offline.Options{
			ConfigFile: cfg.checkRedisConf, ACLFile: cfg.checkACLFile, ServerVersion: cfg.checkServerVersion,
			Collector: builder.opts, Now: time.Now(),
		}))
	}
	if err := check.Write(stdout, report, cfg.checkOutput, version.Version); err != nil {
		level.Error(logger).Log("msg", "writing the report", "err", err)
		return 2
	}
	return report.ExitCode(failOn)
}

// validateCheckInputs checks that check has something to audit and that the
// offline flags come with --redis.conf.
func validateCheckInputs(cfg config) error {
	if cfg.checkRedisConf == "" {
		switch {
		case len(cfg.checkTargets) == 0:
			return errors.New("check needs a target address or --redis.conf FILE")
		case cfg.checkACLFile != "":
			return errors.New("check --acl-file needs --redis.conf")
		case cfg.checkServerVersion != "":
			return errors.New("check --server-version needs --redis.conf")
		}
		return nil
	}
	if cfg.checkModule != "" && len(cfg.checkTargets) == 0 {
		return errors.New("check --module applies to target addresses, and --redis.conf has none")
	}
	if cfg.checkServerVersion != "" {
		if _, _, err := offline.ParseServerVersion(cfg.checkServerVersion); err != nil {
			return err
		}
	}
	return nil
}

// loadModule loads --config.file and returns check's --module.
func loadModule(cfg config, d probe.Defaults) (*probe.Module, error) {
	c, err := rseconfig.Load(cfg.configFile)
	if err != nil {
		return nil, err
	}
	modules, err := probe.BuildModules(c, d)
	if err != nil {
		return nil, err
	}
	m, ok := modules[cfg.checkModule]
	if !ok {
		return nil, fmt.Errorf("--module %q is not a module of %s (modules: %s)", cfg.checkModule, cfg.configFile, strings.Join(c.ModuleNames(), ", "))
	}
	return m, nil
}

// checkWebConfig validates --web.config.file at start-up, so a typo stops the
// exporter with a message instead of failing every request.
func checkWebConfig(f *web.FlagConfig) error {
	if f.WebConfigFile == nil || *f.WebConfigFile == "" {
		return nil
	}
	if err := web.Validate(*f.WebConfigFile); err != nil {
		return fmt.Errorf("--web.config.file: %w", err)
	}
	return nil
}

// newLogger builds the go-kit logger used everywhere and, for the slog bridge
// to exporter-toolkit, the undecorated sink (slog adds its own time, level
// and source) with the matching slog level.
func newLogger(w io.Writer, format, lvl string) (logger, sink log.Logger, leveler slog.Leveler) {
	if format == "json" {
		sink = log.NewJSONLogger(log.NewSyncWriter(w))
	} else {
		sink = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	var (
		option level.Option
		lv     = new(slog.LevelVar)
	)
	switch lvl {
	case "debug":
		option = level.AllowDebug()
		lv.Set(slog.LevelDebug)
	case "warn":
		option = level.AllowWarn()
		lv.Set(slog.LevelWarn)
	case "error":
		option = level.AllowError()
		lv.Set(slog.LevelError)
	default:
		option = level.AllowInfo()
		lv.Set(slog.LevelInfo)
	}
	logger = level.NewFilter(sink, option)
	logger = log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
	return logger, sink, lv
}

// targets builds targets from the flags. What every target shares (the
// credentials, the TLS files, the weak-password hashes, the collectors) is
// loaded once, however many addresses `check` audits.
type targets struct {
	cfg config
	// opts are the collector options with the weak passwords loaded.
	opts     collector.Options
	creds    exporter.Credentials
	tls      *exporter.ClientTLS
	scrapers []collector.Scraper
	logger   log.Logger
}

func newTargets(cfg config, logger log.Logger, getenv func(string) string) (*targets, error) {
	creds, err := credentials(cfg.user, cfg.passwordFile, getenv("REDIS_PASSWORD"))
	if err != nil {
		return nil, err
	}
	clientTLS, err := exporter.NewClientTLS(cfg.tls)
	if err != nil {
		return nil, err
	}
	if cfg.tls.InsecureSkipVerify {
		level.Warn(logger).Log("msg", "TLS CERTIFICATE VERIFICATION IS DISABLED (--tls.insecure-skip-verify): anyone between the exporter and the server can impersonate the server and read the exporter's password; use --tls.ca-file instead")
	}
	opts := cfg.options
	weak, n, err := collector.LoadWeakPasswords(*cfg.bundledWeakPasswords, cfg.weakPasswordsFile)
	if err != nil {
		return nil, fmt.Errorf("--acl.weak-passwords-file: %w", err)
	}
	if weak != nil {
		opts.WeakPasswords = weak
		level.Info(logger).Log("msg", "loaded weak password hashes", "hashes", n)
	} else {
		level.Info(logger).Log("msg", "weak password check off: --no-acl.bundled-weak-passwords and no --acl.weak-passwords-file")
	}
	b := &targets{cfg: cfg, opts: opts, creds: creds, tls: clientTLS, logger: logger}
	var names []string
	for _, e := range collector.All(opts) {
		if *cfg.collect[e.Scraper.Name()] {
			b.scrapers = append(b.scrapers, e.Scraper)
			names = append(names, e.Scraper.Name())
		}
	}
	level.Info(logger).Log("msg", "enabled collectors", "collectors", strings.Join(names, ","))
	return b, nil
}

// defaults are what the modules of --config.file start from.
func (b *targets) defaults(getenv func(string) string) probe.Defaults {
	return probe.Defaults{
		Options:       b.opts,
		Enabled:       enabledCollectors(b.cfg),
		ProbeInterval: b.cfg.tlsProbeIntervalD,
		ACLListMaxAge: b.cfg.aclListMaxAge,
		Getenv:        getenv,
	}
}

// target builds the target at address (--redis.addr or a check argument).
func (b *targets) target(address string) (*exporter.Target, error) {
	addr, err := exporter.ParseAddress(address)
	if err != nil {
		return nil, fmt.Errorf("--redis.addr: %w", err)
	}
	if !addr.TLS && (b.cfg.tls.CAFile != "" || b.cfg.tls.ServerName != "" || b.cfg.tls.InsecureSkipVerify) {
		level.Warn(b.logger).Log("msg", "--tls.ca-file, --tls.server-name and --tls.insecure-skip-verify only apply to rediss:// addresses", "address", addr)
	}
	return exporter.NewTarget(exporter.Options{
		Address:          addr,
		Credentials:      b.creds,
		TLS:              b.tls,
		ProbeCertificate: *b.cfg.tlsProbe,
		ProbeInterval:    b.cfg.tlsProbeIntervalD,
		ACLListMaxAge:    b.cfg.aclListMaxAge,
		Scrapers:         b.scrapers,
		Logger:           b.logger,
	})
}

// credentials returns how to authenticate; nil when no password is set.
func credentials(user, passwordFile, envPassword string) (exporter.Credentials, error) {
	switch {
	case passwordFile != "" && envPassword != "":
		return nil, errors.New("both REDIS_PASSWORD and --redis.password-file are set: use one")
	case passwordFile != "":
		if _, err := exporter.ReadPasswordFile(passwordFile); err != nil {
			return nil, fmt.Errorf("--redis.password-file: %w", err)
		}
		return func(context.Context) (string, string, error) {
			pw, err := exporter.ReadPasswordFile(passwordFile)
			return user, pw, err
		}, nil
	case envPassword != "":
		return func(context.Context) (string, string, error) { return user, envPassword, nil }, nil
	case user != "":
		return nil, fmt.Errorf("--redis.user %q is set without a password: set REDIS_PASSWORD or --redis.password-file", user)
	}
	return nil, nil
}

// newMux routes the exporter's endpoints.
func newMux(cfg config, target *exporter.Target, reloader *probe.Reloader, logger log.Logger) (*http.ServeMux, error) {
	own := []prometheus.Collector{
		collectors.NewGoCollector(),
		processmetrics.New(),
		newBuildInfo(),
		collector.NewVulnerabilityTableCollector(cfg.options.Vulnerabilities, cfg.vulnSource),
	}
	if reloader != nil {
		own = append(own, reloader)
	}
	self, err := exporter.NewSelfMetrics(own...)
	if err != nil {
		return nil, fmt.Errorf("registering the exporter's own metrics: %w", err)
	}
	mux := http.NewServeMux()
	links := []web.LandingLinks{}
	if target != nil {
		mux.Handle(cfg.telemetryPath, exporter.MetricsHandler(target, self, exporter.HandlerOptions{
			DefaultTimeout: cfg.scrapeTimeoutD,
			TimeoutOffset:  cfg.timeoutOffsetD,
			Logger:         logger,
		}))
		links = append(links, web.LandingLinks{Address: cfg.telemetryPath, Text: "Metrics", Description: "Security metrics of " + target.Address().String()})
	}
	if reloader != nil {
		p := reloader.Prober()
		mux.HandleFunc(probePath, p.ServeProbe)
		mux.HandleFunc(discoverClusterPath, p.ServeDiscoverCluster)
		mux.HandleFunc(discoverSentinelPath, p.ServeDiscoverSentinel)
		mux.Handle(reloadPath, reloader)
		modules := strings.Join(probe.ModuleNames(p.Modules()), ", ")
		links = append(links,
			web.LandingLinks{Address: probePath, Text: "Probe", Description: "/probe?module=NAME&target=host:port scrapes a target allowed by a module of " + cfg.configFile + " (modules: " + modules + ")"},
			web.LandingLinks{Address: discoverClusterPath, Text: "Cluster discovery", Description: "/discover/cluster?module=NAME&target=seed:port lists a Redis Cluster's nodes for http_sd_configs"},
			web.LandingLinks{Address: discoverSentinelPath, Text: "Sentinel discovery", Description: "/discover/sentinel?module=NAME&target=sentinel:26379 lists the servers a Sentinel knows for http_sd_configs"},
		)
	}
	if target == nil {
		// No default target: the telemetry path serves the exporter's
		// own metrics, as blackbox_exporter's /metrics does.
		mux.Handle(cfg.telemetryPath, promhttp.HandlerFor(self, promhttp.HandlerOpts{}))
		links = append([]web.LandingLinks{{Address: cfg.telemetryPath, Text: "Metrics", Description: "The exporter's own metrics"}}, links...)
	}
	mux.HandleFunc(healthyPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Healthy")
	})
	links = append(links, web.LandingLinks{Address: healthyPath, Text: "Health", Description: "Liveness of the exporter"})
	if cfg.telemetryPath != "/" {
		landingConfig := web.LandingConfig{
			Name:        programName,
			Description: "Security posture and security events of Redis and Valkey",
			Version:     version.Info(),
			ExtraCSS:    exporter.FindingsCSS,
			Profiling:   "false", // no /debug/pprof is served
			Links:       links,
		}
		page, err := web.NewLandingPage(landingConfig)
		if err != nil {
			return nil, err
		}
		if target == nil {
			mux.Handle("/", page)
			return mux, nil
		}
		// The page shows the current findings, so it is built per request
		// (the toolkit's page is static once built).
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), cfg.scrapeTimeoutD)
			defer cancel()
			html, err := target.Audit(ctx).HTML()
			if err != nil {
				level.Error(logger).Log("msg", "rendering the findings", "err", err)
			}
			c := landingConfig
			c.ExtraHTML = html
			page, err := web.NewLandingPage(c)
			if err != nil {
				level.Error(logger).Log("msg", "building the landing page", "err", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			page.ServeHTTP(w, r)
		})
	}
	return mux, nil
}

// loadVulnerabilityTable sets cfg.options.Vulnerabilities to --vuln.file,
// or to the embedded table without it. The collector options carry it to
// the default target, check and every module of --config.file alike.
func loadVulnerabilityTable(cfg *config, logger log.Logger) error {
	table, source := collector.EmbeddedVulnerabilityTable(), collector.VulnerabilityTableEmbedded
	if cfg.vulnFile != "" {
		var err error
		if table, err = collector.LoadVulnerabilityTable(cfg.vulnFile); err != nil {
			return fmt.Errorf("--vuln.file: %w", err)
		}
		source = collector.VulnerabilityTableFile
	}
	cfg.options.Vulnerabilities, cfg.vulnSource = table, source
	level.Info(logger).Log("msg", "loaded the vulnerability table", "source", source, "file", cfg.vulnFile, "as_of", table.AsOf(), "cves", table.Len())
	return nil
}

// newBuildInfo is redis_security_exporter_build_info with the label set of the
// metric contract.
func newBuildInfo() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "redis_security_exporter_build_info",
		Help: "Version, revision, branch and Go version the exporter was built from. Always 1.",
		ConstLabels: prometheus.Labels{
			"version":   version.Version,
			"revision":  version.GetRevision(),
			"branch":    version.Branch,
			"goversion": version.GoVersion,
		},
	}, func() float64 { return 1 })
}
