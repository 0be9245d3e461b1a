/*
 * conf_params.h - the one table of configuration parameters
 *
 * This X-macro table is the single source of truth: the parser
 * (conf.c), the defaults printed by "sesgatectl config -d", the struct
 * that holds the values, and the documentation check (tests/doccheck.sh
 * compares it with sesgate.conf.5 and the sample config) all expand it.
 * Add a parameter here and nowhere else; then document it in
 * shared/sesgate.conf.5.in and packaging/sesgate.conf.sample or
 * "make check" fails.
 *
 * Columns: SG_CONF_PARAM(name, type, default, min, max, doc)
 *   type: STR (string), INT (integer within [min, max]), BOOL (yes/no),
 *         SIZE (bytes, integer within [min, max]), ENUM (string; the
 *         allowed words are listed in conf.c's validator).
 *   default: always a string, as it would be written in the file.
 *   min/max: bounds for INT and SIZE, ignored otherwise.
 *   doc: one line, as printed by "sesgatectl config -d -v".
 */
/* Deliberately no include guard: the table is expanded several times. */

#ifndef SG_CONF_PARAM
#error "define SG_CONF_PARAM(name, type, def, min, max, doc) before including"
#endif

SG_CONF_PARAM(default_region, STR, "", 0, 0,
    "SES region for senders that sender_region_map does not name")
SG_CONF_PARAM(sender_region_map, STR, "", 0, 0,
    "file of KEY VALUE lines: address or @domain to region or SES relay host")
SG_CONF_PARAM(state_dir, STR, "/var/lib/sesgate", 0, 0,
    "directory of the state store and the quota counters")
SG_CONF_PARAM(quota_backend, ENUM, "embedded", 0, 0,
    "where quota counters live: embedded (state_dir) or redis")
SG_CONF_PARAM(redis_url, STR, "redis://127.0.0.1:6379/0", 0, 0,
    "Redis server for quota_backend = redis")
SG_CONF_PARAM(redis_timeout, INT, "1000", 10, 60000,
    "milliseconds a Redis quota call may take before on_quota_error applies")
SG_CONF_PARAM(redis_batch_max, INT, "64", 1, 256,
    "quota operations of concurrent transactions sent in one Redis script call")
SG_CONF_PARAM(redis_password_file, STR, "", 0, 0,
    "file whose first line is the Redis password (AUTH); empty: none")
SG_CONF_PARAM(quota_burst, INT, "0", 0, 1000000,
    "rate burst in recipients; 0: one second's worth (MaxSendRate, at least 1)")
SG_CONF_PARAM(quota_reservation_timeout, INT, "600", 1, 86400,
    "seconds after which an in-flight quota reservation is released")
SG_CONF_PARAM(on_quota_error, ENUM, "tempfail", 0, 0,
    "answer when the quota counters cannot be reached: tempfail or accept")
SG_CONF_PARAM(quota_counted_by, ENUM, "any", 0, 0,
    "which daemon holds and commits quota: any (whoever runs), milter or policyd")
SG_CONF_PARAM(on_state_error, ENUM, "tempfail", 0, 0,
    "answer when the state cannot be read: tempfail or accept")
SG_CONF_PARAM(regions, STR, "", 0, 0,
    "comma-separated regions that sesgatectl sync keeps current")
SG_CONF_PARAM(api_endpoint, STR, "https://email.{region}.amazonaws.com", 0, 0,
    "SES API base URL; {region} is replaced by the region name")
SG_CONF_PARAM(api_rate, INT, "1", 0, 1000,
    "SES API requests per second per region (sync); 0: no pacing")
SG_CONF_PARAM(api_timeout, INT, "30", 1, 3600,
    "seconds one SES API request may take before it counts as failed")
SG_CONF_PARAM(api_retries, INT, "5", 0, 20,
    "retries of an SES API request after 429, 5xx, a timeout or a cut answer")
SG_CONF_PARAM(api_ca_file, STR, "", 0, 0,
    "CA certificates (PEM) for the SES API; empty: the system's")
SG_CONF_PARAM(api_ca_path, STR, "", 0, 0,
    "directory of hashed CA certificates for the SES API; empty: system's")
SG_CONF_PARAM(aws_credentials_file, STR, "", 0, 0,
    "AWS credentials file (mode 0600); empty: AWS_* variables, ~/.aws")
SG_CONF_PARAM(aws_profile, STR, "", 0, 0,
    "profile of the credentials file; empty: $AWS_PROFILE, else default")
SG_CONF_PARAM(sync_full_interval, INT, "86400", 0, 31536000,
    "seconds between full suppression-list passes of sync; 0: always full")
SG_CONF_PARAM(smtp_hosts, STR, "", 0, 0,
    "REGION=HOST[:PORT] overrides of SES SMTP endpoints for postfix-config")
SG_CONF_PARAM(message_size_limit, SIZE, "40000000", 1, 1073741824,
    "largest message in bytes that SES takes over SMTP (R4)")
SG_CONF_PARAM(max_recipients, INT, "50", 1, 50,
    "recipients per message; the next RCPT gets 452 4.5.3 (R4)")
SG_CONF_PARAM(state_max_size, SIZE, "17179869184", 1048576, 1099511627776,
    "largest size the state store may grow to (LMDB map size)")
SG_CONF_PARAM(syslog_facility, ENUM, "mail", 0, 0,
    "syslog facility of the daemons: mail, daemon or local0 to local7")
SG_CONF_PARAM(log_level, ENUM, "info", 0, 0,
    "least important messages logged: err, warning, notice, info, debug")
SG_CONF_PARAM(policyd_user, STR, "sesgate", 0, 0,
    "user that sesgate-policyd runs as after binding its socket (as root)")
SG_CONF_PARAM(policyd_socket_mode, STR, "0660", 0, 0,
    "octal permissions of the unix socket of sesgate-policyd -l unix:PATH")
SG_CONF_PARAM(policyd_socket_group, STR, "postfix", 0, 0,
    "group of that unix socket; empty: leave the group as created")
SG_CONF_PARAM(policyd_idle_timeout, INT, "300", 1, 86400,
    "seconds after which sesgate-policyd closes an idle connection")
SG_CONF_PARAM(policyd_max_connections, INT, "4096", 1, 1000000,
    "concurrent connections sesgate-policyd serves; more wait in the backlog")
SG_CONF_PARAM(policyd_pid_file, STR, "", 0, 0,
    "file sesgate-policyd writes its process id to; empty: none")
SG_CONF_PARAM(milter_socket, STR, "unix:/run/sesgate/milter.sock", 0, 0,
    "socket of sesgate-milter in libmilter form: unix:PATH or inet:PORT@HOST")
SG_CONF_PARAM(milter_user, STR, "sesgate", 0, 0,
    "user that sesgate-milter runs as after opening its socket (as root)")
SG_CONF_PARAM(milter_socket_mode, STR, "0660", 0, 0,
    "octal permissions of the unix socket of sesgate-milter")
SG_CONF_PARAM(milter_socket_group, STR, "postfix", 0, 0,
    "group of the milter's unix socket; empty: leave the group as created")
SG_CONF_PARAM(milter_pid_file, STR, "", 0, 0,
    "file sesgate-milter writes its process id to; empty: none")
SG_CONF_PARAM(milter_default_config_set, STR, "", 0, 0,
    "X-SES-CONFIGURATION-SET the milter adds when a message has none")
SG_CONF_PARAM(milter_count_body, BOOL, "yes", 0, 0,
    "milter measures the message size itself (yes) or trusts SIZE= (no)")
SG_CONF_PARAM(delegations, STR, "", 0, 0,
    "file of other accounts' identities this site may send as (R8); empty: none")
SG_CONF_PARAM(delegation_owner_production, BOOL, "no", 0, 0,
    "owners of delegated identities are out of the sandbox unless owner= says")
SG_CONF_PARAM(aws_account_id, STR, "", 0, 0,
    "12-digit account owning the identities; set: live identity policies (R8)")
SG_CONF_PARAM(sasl_passwd, STR, "", 0, 0,
    "Postfix SASL password file that sesgatectl lint checks (R9); empty: none")
SG_CONF_PARAM(metrics_listen, STR, "", 0, 0,
    "inet:127.0.0.1:PORT where the daemons serve GET /metrics; empty: off")
