// Package vuln matches a Redis or Valkey server version against a table of
// known vulnerabilities (CVEs) and tells whether the version's branch is end
// of life.
//
// # Data
//
// The table is data, not code: vulnerabilities.json (the CVE rows and, under
// end_of_life, the support status of each branch) is embedded and parsed at
// init with a strict schema (unknown fields, malformed versions, severities
// that do not match the CVSS score, duplicate ids, rows without sources are
// errors, so a bad edit fails the tests and the build of any binary that
// loads it). Operators can load a newer document of the same schema with
// Load (--vuln.file); it replaces the embedded table whole. Each row names
// its advisory, lists the sources that state its fixed-in versions, and says
// whether every fixed-in version was confirmed against the project's
// advisories or release notes (verified); an unconfirmed row says in its
// note what is missing.
//
// Severity is the CVSS base score the CVE numbering authority published (for
// Redis and Valkey that is GitHub, the score of the security advisory): 9.0 or
// more is critical, 7.0 or more high, 4.0 or more medium, below that low.
//
// # Matching
//
// A row lists, per flavor, the release branches (major.minor) it affects:
//
//   - fixed: branch -> first fixed version on that branch. A version on the
//     branch is affected when it is older than that version.
//   - unfixed: branches that are affected and have no known fix: end-of-life
//     branches such as Redis 6.0 or 7.0, or a supported branch whose fix has
//     not shipped. Every version on them is affected.
//   - older_unfixed: every branch older than the oldest listed branch is
//     affected without a fix (from introduced on).
//   - introduced: versions older than this are not affected.
//   - newer_fixed_in: branches newer than the newest listed branch are
//     affected below this version. No row uses it today: a fix normally
//     predates the next branch's first release, which is then not affected.
//
// A version whose branch the row does not list, and that neither rule above
// covers, is not affected. In particular a branch newer than every branch a
// row knows (Redis 9.0, Valkey 9.1) is never reported, so versions released
// after the table was written produce no false positives; the price is that a
// branch the table has not heard of is reported clean. Release candidates are
// matched on their numeric version (7.2.4-rc1 is 7.2.4; Redis RCs numbered
// 7.1.240 sit on a branch no row lists and match nothing).
//
// Valkey is matched on its own version (valkey_version), never on the
// redis_version:7.2.4 it reports for compatibility: use MatchServer with the
// redisinfo.Server of the target. CVEs fixed in Redis before 7.2.4, the
// version Valkey forked from, do not affect Valkey.
//
// # Limits
//
// The result is an upper bound: Linux distributions backport fixes without
// changing the version (Debian's 7.0.15 carries fixes for later CVEs), and
// some CVEs need a non-default configuration or an authenticated user.
//
// CVE-2022-0543 (Lua sandbox escape through the package library) is not a
// Redis version issue but a Debian/Ubuntu packaging one: it is detected by a
// separate probe (EVAL "return type(package)" 0), not by this table. CVEs in
// the offline tools only (CVE-2025-27151, redis-check-aof/valkey-check-aof)
// are left out too: they cannot be reached through the server. The table's
// scope field lists the known gaps (advisories whose CVE ids or per-branch
// fixes were not found).
package vuln
