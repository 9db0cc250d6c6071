#!/usr/bin/env bash
# Installs the real servers the test suites start (idempotent; run as root by .ci/run, or by a
# developer with sudo). Nothing listens on well-known ports: the suites start their own servers
# on free loopback ports. See ../shared/docs/test-servers.md for why each comes from where.
set -euo pipefail

CACHE=${EVENT_GATEWAY_TEST_CACHE:-/var/cache/event-gateway-test}
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# etcd: the store tests.
apt_install etcd-server etcd-client
# kcat: librdkafka's mock Kafka cluster, for the Kafka journal tests.
apt_install kcat

# moto (SQS, Kinesis, Firehose, S3): Debian trixie's pure-Python python3-moto, unpacked into the
# cache and run on the system python3 with bookworm's builds of its dependencies.
apt_install python3-boto3 python3-botocore python3-cryptography python3-dateutil python3-flask \
  python3-flask-cors python3-jinja2 python3-requests python3-responses python3-werkzeug \
  python3-xmltodict python3-antlr4
if [ ! -d "$CACHE/moto/usr/lib/python3/dist-packages/moto" ]; then
  mkdir -p "$CACHE/apt-trixie/lists/partial" "$CACHE/apt-trixie/archives/partial" "$CACHE/moto"
  echo 'deb http://deb.debian.org/debian trixie main' >"$CACHE/apt-trixie/sources.list"
  APT=(-o "Dir::Etc::SourceList=$CACHE/apt-trixie/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$CACHE/apt-trixie/lists" -o "Dir::Cache::Archives=$CACHE/apt-trixie/archives"
    -o APT::Sandbox::User=root)
  apt-get "${APT[@]}" update -qq
  (cd "$CACHE/apt-trixie/archives" && apt-get "${APT[@]}" download python3-moto >/dev/null)
  dpkg -x "$CACHE"/apt-trixie/archives/python3-moto_*.deb "$CACHE/moto"
fi

# A Lambda emulator that runs real handler code: serverless-offline 13 with serverless 3, from
# npm into the cache (~280 MB: not a devDependency of every install).
if [ ! -f "$CACHE/serverless/node_modules/serverless-offline/package.json" ]; then
  mkdir -p "$CACHE/serverless"
  echo '{"name":"eg-lambda-emulator","private":true}' >"$CACHE/serverless/package.json"
  (cd "$CACHE/serverless" && npm install --no-audit --no-fund --loglevel=error \
    serverless@3 serverless-offline@13 >/dev/null)
fi
