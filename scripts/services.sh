#!/usr/bin/env bash
# Start the local services the integration tests need, when they are not already running.
# The tests themselves fail (never skip) when a service stays unreachable.
set -u

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # name port seconds
    local i
    for ((i = 0; i < $3; i++)); do
        port_open "$2" && return 0
        sleep 1
    done
    echo "services: $1 did not come up on 127.0.0.1:$2 within $3 s" >&2
    return 1
}

if ! port_open 5432; then
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    wait_port PostgreSQL 5432 60
fi

if ! port_open 3306; then
    echo "services: starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    wait_port MariaDB 3306 60
fi

if ! port_open 5672; then
    echo "services: starting RabbitMQ"
    rabbitmq-server -detached || true
    for ((i = 0; i < 120; i++)); do
        rabbitmqctl status >/dev/null 2>&1 && break
        sleep 1
    done
    wait_port RabbitMQ 5672 60
fi
exit 0
