#!/bin/sh
# Starts Prometheus for the `monitoring` profile with the dashboard's read-only account from .env:
# the password goes to a file only this user reads, the user name into the config.
set -eu
user="${DASHBOARD_READONLY_USER:-}"
if [ -z "$user" ] || [ -z "${DASHBOARD_READONLY_PASSWORD:-}" ]; then
  echo "prometheus: set DASHBOARD_READONLY_USER and DASHBOARD_READONLY_PASSWORD in .env: the dashboard's read-only account scrapes /metrics" >&2
  exit 1
fi
case "$user" in
  *[!A-Za-z0-9._@-]*)
    echo "prometheus: DASHBOARD_READONLY_USER may hold letters, digits and . _ @ - only (it goes into prometheus.yml)" >&2
    exit 1
    ;;
esac
umask 077
mkdir -p /prometheus/.task-hub
printf '%s' "$DASHBOARD_READONLY_PASSWORD" > /prometheus/.task-hub/dashboard-readonly-password
sed "s/__DASHBOARD_READONLY_USER__/$user/" /etc/task-hub/prometheus.yml > /prometheus/.task-hub/prometheus.yml
exec /bin/prometheus --config.file=/prometheus/.task-hub/prometheus.yml --storage.tsdb.path=/prometheus "$@"
