# A private Postfix on loopback for integration tests and the demo (sourced).
#   pfx_start DIR SMTP_PORT SINK_PORT   Postfix listening on 127.0.0.1:SMTP_PORT, relaying
#                                       everything to an smtp-sink on 127.0.0.1:SINK_PORT that
#                                       writes each message to DIR/sink/
#                                       (PFX_SINK_DUMP=0: the sink keeps nothing, for benchmarks)
#   pfx_stop DIR
#   pfx_wait_queue_empty DIR [SECONDS]
#   pfx_start_filtered DIR SMTPD_PORT SINK_PORT   pfx_start, then `pmx mta postfix --apply` puts
#                                                 pmx-milter (and pmx-ipblockd) in its mail path
# No DNS, no local delivery, no chroot; logs in DIR/log/maillog. Run as root.

pfx_start() {
  local dir=$1 port=$2 sink_port=$3
  mkdir -p "$dir/etc" "$dir/spool" "$dir/data" "$dir/log" "$dir/sink"
  chown postfix:postfix "$dir/data"
  chmod 0777 "$dir/sink"
  cat > "$dir/etc/main.cf" <<CF
compatibility_level = 3.6
config_directory = $dir/etc
queue_directory = $dir/spool
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.gw.test
mydomain = gw.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 local delivery disabled
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
relayhost = [127.0.0.1]:$sink_port
smtp_dns_support_level = disabled
smtp_host_lookup = native
biff = no
maillog_file = $dir/log/maillog
maillog_file_prefixes = $dir/log
default_process_limit = 100
smtp_destination_concurrency_limit = 20
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
message_size_limit = 52428800
CF
  awk -v port="$port" 'BEGIN{OFS="\t"} /^#/ || /^[ \t]/ || NF<8 {print; next}
       { if ($1=="smtp" && $2=="inet") $1="127.0.0.1:" port; $5="n"; print }' \
       /etc/postfix/master.cf > "$dir/etc/master.cf"
  # postfix prints its errors only to a terminal until postlogd runs: give it one.
  script -qec "postfix -c $dir/etc check" /dev/null >/dev/null || { echo "postfix check failed" >&2; return 1; }
  script -qec "postfix -c $dir/etc start" /dev/null >/dev/null || { echo "postfix start failed" >&2; return 1; }
  if [ "${PFX_SINK_DUMP:-1}" = 1 ]; then
    smtp-sink -u postfix -d "$dir/sink/%M%S." -c "127.0.0.1:$sink_port" 1024 >/dev/null &
  else
    smtp-sink -u postfix -c "127.0.0.1:$sink_port" 1024 >/dev/null &
  fi
  echo $! > "$dir/sink.pid"
  local i
  for i in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$sink_port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "postfix or smtp-sink did not come up" >&2
  return 1
}

pfx_stop() {
  local dir=$1
  script -qec "postfix -c $dir/etc stop" /dev/null >/dev/null 2>&1 || true
  [ -f "$dir/sink.pid" ] && kill "$(cat "$dir/sink.pid")" 2>/dev/null || true
}

pfx_wait_queue_empty() {
  local dir=$1 seconds=${2:-20} i
  for i in $(seq $((seconds * 10))); do
    [ -z "$(find "$dir/spool/incoming" "$dir/spool/active" "$dir/spool/deferred" "$dir/spool/maildrop" -type f 2>/dev/null | head -1)" ] && return 0
    sleep 0.1
  done
  return 1
}

# A private Postfix whose mail goes through the running pmx daemons: started, configured by
# `pmx mta postfix --apply` (as an admin would), reloaded. Needs lib.sh's run/fail.
pfx_start_filtered() {
  local dir=$1
  pfx_start "$dir" "$2" "$3" || fail "private postfix did not start"
  run 0 pmx mta postfix --apply -c "$dir/etc"
  script -qec "postfix -c $dir/etc reload" /dev/null >/dev/null
  sleep 1  # idle smtpd processes from before the reload finish first
}
