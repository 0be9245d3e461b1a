#!/bin/sh
# tests/integration/redis-lib.sh - a throwaway redis-server on loopback
# (POSIX sh; source it after lib.sh and sg_setup, or after
# postfix-lib.sh with sg_tmp set and redis_own_trap=0)
#
#   redis_need            sg_skip unless redis-server and redis-cli exist
#   redis_free_port       print a free loopback TCP port
#   redis_start [ARGS]    start redis-server on $redis_port (chosen once)
#                         in $sg_tmp/redis, no persistence, no system
#                         service; waits for PING; extra ARGS go to the
#                         server (e.g. --requirepass)
#   redis_stop            stop it (SIGTERM, then SIGKILL) and wait
#   redis_cli ARGS...     redis-cli against it
#   redis_evalsha_calls   EVALSHA calls since the last CONFIG RESETSTAT
#
# The server is stopped on exit, whatever happens (redis_start sets the
# EXIT trap to redis_cleanup; with redis_own_trap=0 the caller's own
# trap must call redis_stop). It also listens on
# $redis_sock (a unix socket), which tests use as "another host".

redis_pid=
redis_port=
redis_sock=
redis_pass=
redis_own_trap=${redis_own_trap:-1}

# redis_need - skip the test unless the Redis tools are installed
redis_need() {
    for t in redis-server redis-cli; do
        command -v "$t" >/dev/null 2>&1 || sg_skip "$t not installed"
    done
}

# redis_free_port - a loopback port nobody listens on
redis_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null && return 0
    # Without python3: a random high port that does not answer.
    while :; do
        p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 + 40000 ))
        if ! redis-cli -p "$p" ping >/dev/null 2>&1; then
            echo "$p"
            return 0
        fi
    done
}

# redis_cleanup - the EXIT trap: stop the server, then lib.sh's cleanup
redis_cleanup() {
    redis_stop
    sg_cleanup
}

# redis_cli - redis-cli against the test server
redis_cli() {
    if [ -n "$redis_pass" ]; then
        REDISCLI_AUTH=$redis_pass redis-cli -h 127.0.0.1 -p "$redis_port" \
            "$@"
    else
        redis-cli -h 127.0.0.1 -p "$redis_port" "$@"
    fi
}

# redis_evalsha_calls - EVALSHA calls since the last CONFIG RESETSTAT
redis_evalsha_calls() {
    redis_cli info commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p'
}

# redis_start - start the server and wait until it answers PING
redis_start() {
    mkdir -p "$sg_tmp/redis"
    if [ -z "$redis_port" ]; then
        redis_port=$(redis_free_port)
    fi
    redis_sock=$sg_tmp/redis/redis.sock
    redis-server --port "$redis_port" --bind 127.0.0.1 \
        --unixsocket "$redis_sock" --unixsocketperm 700 \
        --dir "$sg_tmp/redis" --save '' --appendonly no --daemonize no \
        --logfile "$sg_tmp/redis/redis.log" "$@" &
    redis_pid=$!
    [ "$redis_own_trap" = 0 ] || trap redis_cleanup EXIT
    i=0
    while [ $i -lt 100 ]; do
        if [ "$(redis_cli ping 2>/dev/null)" = PONG ]; then
            return 0
        fi
        if ! kill -0 "$redis_pid" 2>/dev/null; then
            echo "ERROR: redis-server exited; its log:" >&2
            cat "$sg_tmp/redis/redis.log" >&2
            exit 99
        fi
        sleep 0.05
        i=$((i + 1))
    done
    echo "ERROR: redis-server did not answer PING on port $redis_port" >&2
    exit 99
}

# redis_stop - stop the server (if running) and reap it
redis_stop() {
    if [ -n "$redis_pid" ]; then
        kill -CONT "$redis_pid" 2>/dev/null
        kill "$redis_pid" 2>/dev/null
        i=0
        while kill -0 "$redis_pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.05
            i=$((i + 1))
        done
        kill -KILL "$redis_pid" 2>/dev/null
        wait "$redis_pid" 2>/dev/null
        redis_pid=
    fi
}
